import { randomUUID } from 'node:crypto';
import { ErrorCode, HeraldError } from '@herald/contracts';
import { type McpServerConfig } from '@herald/config';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type CallToolResult, ErrorCode as McpErrorCode, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolSource } from '../sdk/agent-context';
import type { AgentTool, AnyAgentTool, ToolCall } from '../sdk/agent-tool';

/** Where MCP connections report what happens to them (pino's signature). */
export interface McpLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** The `_meta` key that tells a call's requests apart (see routeProgress). */
const CALL_META = 'dev.herald/call';
/** Reconnection backoff after a server was lost or could not be reached. */
const RECONNECT_FIRST_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** Tools of one server at most (pages of tools/list are followed up to this). */
const MAX_TOOLS = 500;
/** How much of a tool's error text its tool_completed shows. */
const ERROR_TEXT_MAX = 1_000;
/** How long start() waits for the first connections before letting the worker go on. */
const START_WAIT_MS = 10_000;

/**
 * The MCP servers of MCP_SERVERS as a ToolSource: the worker connects to each (stdio: runs
 * its command with a minimal environment plus its `env`; or Streamable HTTP with its
 * `headers`), lists its tools (every page, again on `notifications/tools/list_changed`) and
 * offers them to the agents' models as `<server>.<tool>`. A call passes the step's abort
 * signal (a cancel sends MCP's `notifications/cancelled`), turns MCP progress notifications
 * into `tool_progress`, and is bounded by the server's `timeoutMs` (restarted by progress).
 * A server that is down, dies or hangs makes its calls fail, never the run; it is reconnected
 * in the background (1 s, doubling, at most 30 s).
 */
export class McpServers implements ToolSource {
  private readonly connections: McpConnection[];

  constructor(configs: readonly McpServerConfig[], logger: McpLogger) {
    this.connections = configs.map((c) => new McpConnection(c, logger));
  }

  /** Connects every server; waits at most START_WAIT_MS (a slow one connects in the background). Never throws. */
  async start(waitMs = START_WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.connections.map((c) => c.connect())),
      new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
  }

  list(): readonly AnyAgentTool[] {
    return this.connections.flatMap((c) => c.tools);
  }

  /** The servers and how many tools each offers now (health, logs). */
  status(): Array<{ name: string; connected: boolean; tools: number }> {
    return this.connections.map((c) => ({ name: c.name, connected: c.connected, tools: c.tools.length }));
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }
}

class McpConnection {
  tools: AnyAgentTool[] = [];
  private client?: Client;
  private connecting?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private retryMs = RECONNECT_FIRST_MS;
  private closed = false;
  private readonly log: McpLogger;
  /** In-flight calls' progress, by the key in their `_meta`, and the SDK's progress tokens of those calls. */
  private readonly progressRoutes = new Map<string, (progress: number, total?: number, message?: string) => void>();
  private readonly progressTokens = new Map<string | number, string>();

  constructor(
    private readonly config: McpServerConfig,
    logger: McpLogger,
  ) {
    this.log = logger;
  }

  get name(): string {
    return this.config.name;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    this.tools = [];
    await client?.close().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    const client: Client = new Client(
      { name: 'herald-worker', version: '0.1.0' },
      { listChanged: { tools: { autoRefresh: false, debounceMs: 50, onChanged: () => void this.refresh(client) } } },
    );
    client.onclose = () => this.lost(client);
    client.onerror = (err) => {
      this.log.debug({ err, mcpServer: this.name }, 'MCP transport error');
      // The server forgot the HTTP session (it restarted, or ended it): start a new one (MCP's rule for a 404).
      if (isSessionGone(err)) void this.reset(client, true);
    };
    try {
      const transport = this.transport();
      this.routeProgress(transport, 'send');
      await client.connect(transport, { timeout: this.config.timeoutMs });
      this.routeProgress(transport, 'receive');
      if (this.closed) return void (await client.close());
      this.client = client;
      await this.refresh(client);
      this.retryMs = RECONNECT_FIRST_MS;
      this.log.info({ mcpServer: this.name, tools: this.tools.map((t) => t.name) }, 'MCP server connected');
    } catch (err) {
      if (this.client === client) this.client = undefined;
      this.tools = [];
      await client.close().catch(() => undefined);
      this.log.warn({ err, mcpServer: this.name, retryInMs: this.retryMs }, 'MCP server unreachable: its tools are unavailable for now');
      this.reconnectLater();
    }
  }

  /**
   * Progress notifications, handed to their call as they arrive. The SDK hands them on a
   * microtask, after it may already have read the call's answer from the same chunk and
   * forgotten the call's progress token: the last notification before the answer would be
   * lost. So each call carries its key in `_meta`; the SDK's progress token is noted as the
   * request goes out (`send`), and notifications are routed by it as they come in
   * (`receive`, after connect() has set the transport's handler). The SDK's own handling stays
   * (it restarts the timeout); call.progress() drops the repeats.
   */
  private routeProgress(transport: Transport, side: 'send' | 'receive'): void {
    if (side === 'send') {
      const send = transport.send.bind(transport);
      transport.send = (message, options) => {
        const m = message as { method?: string; params?: { _meta?: Record<string, unknown> } };
        const key = m.params?._meta?.[CALL_META];
        const token = m.params?._meta?.progressToken;
        if (m.method === 'tools/call' && typeof key === 'string' && (typeof token === 'string' || typeof token === 'number')) {
          this.progressTokens.set(token, key);
        }
        return send(message, options);
      };
      return;
    }
    const receive = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const m = message as {
        method?: string;
        params?: { progressToken?: string | number; progress?: unknown; total?: unknown; message?: unknown };
      };
      if (m.method === 'notifications/progress' && m.params?.progressToken !== undefined) {
        const key = this.progressTokens.get(m.params.progressToken);
        const { progress, total, message: text } = m.params;
        if (key && typeof progress === 'number') {
          this.progressRoutes.get(key)?.(
            progress,
            typeof total === 'number' ? total : undefined,
            typeof text === 'string' ? text : undefined,
          );
        }
      }
      receive?.call(transport, message, extra);
    };
  }

  private transport(): Transport {
    if ('url' in this.config) {
      return new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers: this.config.headers } });
    }
    const transport = new StdioClientTransport({
      command: this.config.command,
      args: this.config.args,
      // The worker's own secrets (DATABASE_URL, NATS_PASSWORD, …) never reach the server.
      env: { ...getDefaultEnvironment(), ...this.config.env },
      ...(this.config.cwd ? { cwd: this.config.cwd } : {}),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) =>
      this.log.debug({ mcpServer: this.name, stderr: chunk.toString('utf8').slice(0, 2_000) }, 'MCP server stderr'),
    );
    return transport;
  }

  /** The connection is gone (the process died, the HTTP session ended): no tools until it is back. */
  private lost(client: Client) {
    if (this.client !== client) return;
    this.client = undefined;
    this.tools = [];
    if (this.closed) return;
    this.log.warn({ mcpServer: this.name, retryInMs: this.retryMs }, 'MCP server connection lost');
    this.reconnectLater();
  }

  /** Drops `client` (if it is still the connection) and reconnects: at once (`now`), or after the backoff. */
  private async reset(client: Client, now = false): Promise<void> {
    if (this.client === client) {
      this.client = undefined;
      this.tools = [];
      this.log.warn({ mcpServer: this.name, now }, 'MCP server connection reset');
      await client.close().catch(() => undefined);
      if (!now) return this.reconnectLater();
    }
    if (now && !this.closed) await this.connect();
  }

  private reconnectLater() {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(RECONNECT_MAX_MS, this.retryMs * 2);
  }

  /** tools/list, every page: the tools offered from now on. */
  private async refresh(client: Client): Promise<void> {
    try {
      const listed: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: this.config.timeoutMs });
        listed.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor && listed.length < MAX_TOOLS);
      if (this.client === client) this.tools = listed.slice(0, MAX_TOOLS).map((t) => this.agentTool(t));
    } catch (err) {
      if (this.client !== client) return;
      this.log.warn({ err, mcpServer: this.name }, 'listing the MCP server tools failed');
      throw err;
    }
  }

  private agentTool(tool: Tool): AgentTool<Record<string, unknown>, CallToolResult> {
    const name = `${this.name}.${tool.name}`;
    const mode = this.config.approval;
    const needsApproval = mode === 'always' || (mode === 'auto' && tool.annotations?.readOnlyHint !== true);
    return {
      name,
      description: `${tool.description ?? tool.annotations?.title ?? tool.title ?? tool.name} (tool ${tool.name} of the MCP server ${this.name})`,
      inputSchema: (tool.inputSchema ?? { type: 'object' }) as Record<string, unknown>,
      ...(needsApproval
        ? {
            approval: () => ({
              action: `Run ${name}`,
              details: {
                server: this.name,
                tool: tool.name,
                ...(tool.description ? { description: tool.description.slice(0, 500) } : {}),
                ...(tool.annotations?.destructiveHint !== undefined ? { destructive: tool.annotations.destructiveHint } : {}),
              },
            }),
          }
        : {}),
      run: (input, call) => this.call(tool.name, name, input, call),
      output: resultView,
      forModel: resultView,
    };
  }

  private async call(tool: string, name: string, input: unknown, call: ToolCall, retried = false): Promise<CallToolResult> {
    const client = this.client ?? (await this.connecting?.then(() => this.client));
    if (!client) throw new HeraldError(ErrorCode.UNAVAILABLE, `The tool server ${this.name} is not connected.`);
    if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
      throw new HeraldError(ErrorCode.INVALID_INPUT, `${name} takes an object as input.`);
    }
    let result: CallToolResult;
    const key = randomUUID();
    this.progressRoutes.set(key, (progress, total, message) => call.progress(progress, total, message));
    try {
      result = (await client.callTool(
        { name: tool, arguments: (input ?? {}) as Record<string, unknown>, _meta: { [CALL_META]: key } },
        undefined,
        {
          signal: call.signal,
          timeout: this.config.timeoutMs,
          resetTimeoutOnProgress: true,
          onprogress: ({ progress, total, message }) => call.progress(progress, total, message),
        },
      )) as CallToolResult;
    } catch (err) {
      call.signal.throwIfAborted();
      if (isSessionGone(err) && !retried) {
        // The server never saw the call (it no longer knows the session): a new session, and once more.
        await this.reset(client, true);
        return this.call(tool, name, input, call, true);
      }
      // Not an answer of the server's: the connection may be stale (a broken pipe, a server
      // that went away). Start afresh; the tools come back once it is up.
      if (!(err instanceof McpError)) void this.reset(client);
      throw this.callError(name, err);
    } finally {
      this.forgetCall(key);
    }
    if (result.isError) {
      const text = textOf(result).trim();
      throw new HeraldError(ErrorCode.INTERNAL, `${name} failed${text ? `: ${text.slice(0, ERROR_TEXT_MAX)}` : '.'}`);
    }
    return result;
  }

  private forgetCall(key: string): void {
    this.progressRoutes.delete(key);
    for (const [token, k] of this.progressTokens) if (k === key) this.progressTokens.delete(token);
  }

  /** The line users and the model read for a call that got no result. */
  private callError(name: string, err: unknown): HeraldError {
    this.log.warn({ err, mcpServer: this.name, tool: name }, 'MCP tool call failed');
    if (err instanceof McpError && err.code === McpErrorCode.RequestTimeout) {
      return new HeraldError(ErrorCode.TIMEOUT, `${name} did not answer within ${formatMs(this.config.timeoutMs)}.`, undefined, {
        cause: err,
      });
    }
    if (err instanceof McpError && err.code === McpErrorCode.ConnectionClosed) {
      return new HeraldError(ErrorCode.UNAVAILABLE, `The tool server ${this.name} stopped during the call.`, undefined, { cause: err });
    }
    if (err instanceof McpError) {
      return new HeraldError(ErrorCode.UNAVAILABLE, `${name} refused the call: ${err.message.slice(0, 300)}`, undefined, { cause: err });
    }
    return new HeraldError(ErrorCode.UNAVAILABLE, `The tool server ${this.name} could not be reached.`, undefined, { cause: err });
  }
}

/** The HTTP server answered 404 to the session: it no longer knows it. */
function isSessionGone(err: unknown): boolean {
  return err instanceof StreamableHTTPError && err.code === 404;
}

/** A result as events and the model see it: the structured content, else the text, else the content (without binary data). */
export function resultView(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.every((c) => c.type === 'text')) return textOf(result);
  return content.map((c) =>
    c.type === 'text' ? c : c.type === 'image' || c.type === 'audio' ? { type: c.type, mimeType: c.mimeType } : { type: c.type },
  );
}

function textOf(result: CallToolResult): string {
  return (result.content ?? []).flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
