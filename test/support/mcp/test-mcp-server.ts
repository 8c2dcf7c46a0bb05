import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/** What the tools of the test server return or say. */
export const TEST_MCP = {
  failure: 'the disk is on fire',
  saved: (text: string) => `saved "${text}"`,
  counted: (steps: number) => `counted to ${steps}`,
  late: 'a tool that came later',
} as const;

export interface TestMcpOptions {
  /** Each thing a tool does, as a line: `write_note:<text>`, `hang:started`, `hang:cancelled`, `crash`, `add_tool`. */
  record: (event: string) => void;
  /** How `crash` kills the server (stdio: the process exits; HTTP: the session's transport closes). */
  crash: () => void;
}

/**
 * A real MCP server (the official SDK's McpServer) for tests, with a tool for each outcome:
 *  - `slow_count { steps, delayMs }` (read-only): a progress notification per step, then the count;
 *  - `write_note { text }` (not read-only: needs approval under `auto`): records the note;
 *  - `fail` (read-only): a tool error (`isError`) with TEST_MCP.failure;
 *  - `hang` (read-only): never answers; records when its request is cancelled;
 *  - `crash` (read-only): the server dies in the middle of the call;
 *  - `env` (read-only): the names of its environment variables;
 *  - `add_tool` (read-only): adds `late_tool`, which sends `notifications/tools/list_changed`.
 */
export function createTestMcpServer(opts: TestMcpOptions): McpServer {
  const server = new McpServer({ name: 'herald-test-mcp', version: '1.0.0' });
  const readOnly = { readOnlyHint: true };

  server.registerTool(
    'slow_count',
    {
      description: 'Counts slowly, reporting progress at each step.',
      inputSchema: { steps: z.number().int().min(1).max(50).default(3), delayMs: z.number().int().min(0).max(5_000).default(100) },
      annotations: readOnly,
    },
    async ({ steps, delayMs }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        await new Promise((r) => setTimeout(r, delayMs));
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: i, total: steps, message: `step ${i} of ${steps}` },
          });
        }
      }
      return { content: [{ type: 'text', text: TEST_MCP.counted(steps) }] };
    },
  );

  server.registerTool(
    'write_note',
    {
      description: 'Writes a note somewhere that lasts.',
      inputSchema: { text: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: false },
    },
    async ({ text }) => {
      opts.record(`write_note:${text}`);
      return { content: [{ type: 'text', text: TEST_MCP.saved(text) }] };
    },
  );

  server.registerTool('fail', { description: 'Always fails.', annotations: readOnly }, async () => ({
    isError: true,
    content: [{ type: 'text', text: TEST_MCP.failure }],
  }));

  server.registerTool('hang', { description: 'Never answers.', annotations: readOnly }, async (extra) => {
    opts.record('hang:started');
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
    opts.record('hang:cancelled');
    throw new Error('cancelled');
  });

  server.registerTool('crash', { description: 'Dies in the middle of the call.', annotations: readOnly }, async () => {
    opts.record('crash');
    setTimeout(() => opts.crash(), 20);
    await new Promise(() => undefined);
    return { content: [] };
  });

  server.registerTool('env', { description: 'The names of the environment variables it runs with.', annotations: readOnly }, async () => ({
    content: [{ type: 'text', text: Object.keys(process.env).sort().join(',') }],
  }));

  server.registerTool('add_tool', { description: 'Adds a tool.', annotations: readOnly }, async () => {
    opts.record('add_tool');
    server.registerTool('late_tool', { description: 'Came later.', annotations: readOnly }, async () => ({
      content: [{ type: 'text', text: TEST_MCP.late }],
    }));
    return { content: [{ type: 'text', text: 'added late_tool' }] };
  });

  return server;
}

export interface HttpMcpServer {
  url: string;
  events: string[];
  /** Sessions open now. */
  readonly sessions: number;
  close(): Promise<void>;
}

/** The test server over Streamable HTTP (stateful sessions), on a free loopback port, in this process. */
export async function startHttpMcpServer(): Promise<HttpMcpServer> {
  const events: string[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const sockets = new Set<Socket>();
  const http: Server = createServer((req, res) => {
    void (async () => {
      if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId) return void res.writeHead(404).end();
        const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void transports.set(id, created),
        });
        created.onclose = () => {
          if (created.sessionId) transports.delete(created.sessionId);
        };
        const server = createTestMcpServer({ record: (e) => events.push(e), crash: () => void created.close() });
        await server.connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  http.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    events,
    get sessions() {
      return transports.size;
    },
    async close() {
      for (const t of transports.values()) await t.close().catch(() => undefined);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
