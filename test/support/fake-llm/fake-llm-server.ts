import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OpenAI-compatible chat completions endpoint for tests. What it does is chosen by
 * markers in the last user message:
 *  - `[bad-sql]` write_sql always answers a query EXPLAIN refuses;
 *  - `[fail-500]` always 500 (with `retry-after: 0`, so retries do not wait); `[fail-401]`
 *    always 401; `[flaky]` a 429 (Retry-After: 0) and a 503 (no Retry-After: the client's own
 *    backoff) before it answers; `[retry-after-N]` a 429 with Retry-After: N before it answers;
 *    `[slow]` waits SLOW_MS before answering; `[cut]` ends the stream without a finish reason
 *    or `[DONE]`;
 *  - `[think]`: the answer starts with REASONING, streamed as `reasoning_content` deltas;
 *  - `[call a+b]` (tool loop): when the request offers tools and does not force one, the
 *    model streams REASONING, then calls tools `a` and `b` in one turn (parallel tool calls;
 *    a name matches the offered tool of that name, or the one ending in `_a`). Several
 *    markers are several turns (`[call a+b] [call c]`); once every turn has been made, and
 *    whenever tool_choice is `none`, it answers TOOL_REPLY. Arguments come from `toolArgs`
 *    (by the marker's name), else DEFAULT_TOOL_ARGS, else `{}`;
 *  - otherwise a forced tool call gets plausible arguments (classify_intent: by keywords;
 *    write_sql: a revenue-by-region query), and a completion streams REPLY in small chunks.
 * Streams end with `finish_reason`, a usage chunk and `[DONE]`. Every request is recorded.
 */
export const REPLY = 'Hello from the fake model. Herald streams every step.';
export const TOOL_REPLY = 'The tools have answered. Herald streamed every call.';
export const REASONING = 'The user wants facts. I should look them up before answering.';
export const SLOW_MS = 30_000;
const FAKE_SQL =
  'SELECT c.region, round(sum(o.amount), 2) AS revenue FROM demo.orders o JOIN demo.customers c ON c.id = o.customer_id GROUP BY 1 ORDER BY 2 DESC';
const STREAM_USAGE = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 };
const TOOL_TURN_USAGE = { prompt_tokens: 20, completion_tokens: 6, total_tokens: 26 };
const DEFAULT_TOOL_ARGS: Record<string, Record<string, unknown>> = {
  knowledge_search: { query: 'JetStream consumers', limit: 3 },
  schema_lookup: {},
  sql_query: { sql: FAKE_SQL },
};

interface RecordedMessage {
  role: string;
  content: string | null;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

export interface RecordedRequest {
  /** When it arrived (performance.now()). */
  at: number;
  authorization?: string;
  body: {
    model: string;
    stream?: boolean;
    messages: RecordedMessage[];
    tools?: Array<{ function: { name: string; description?: string; parameters?: unknown } }>;
    tool_choice?: string | { type: string; function?: { name: string } };
  };
}

export class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
  /** Arguments of the tools `[call …]` names, by the name in the marker. */
  readonly toolArgs: Record<string, Record<string, unknown>> = {};
  private readonly attempts = new Map<string, number>();
  private readonly sockets = new Set<import('node:net').Socket>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** The requests whose last user message contains `marker`. */
  requestsWith(marker: string): RecordedRequest[] {
    return this.requests.filter((r) => lastUser(r.body.messages).includes(marker));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as RecordedRequest['body'];
    this.requests.push({ at: performance.now(), authorization: req.headers.authorization, body });
    const last = lastUser(body.messages);
    const forced = typeof body.tool_choice === 'object' ? body.tool_choice.function?.name : undefined;
    const key = `${forced ?? 'chat'}:${body.messages.length}:${last}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);

    if (last.includes('[fail-500]'))
      return json(res, 500, { error: { message: 'internal error at /srv/model.py:42' } }, { 'retry-after': '0' });
    if (last.includes('[fail-401]')) return json(res, 401, { error: { message: 'invalid api key' } });
    if (last.includes('[flaky]') && attempt === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '0' });
    if (last.includes('[flaky]') && attempt === 2) return json(res, 503, { error: { message: 'overloaded' } });
    const retryAfter = /\[retry-after-(\d+)\]/.exec(last)?.[1];
    if (retryAfter && attempt === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': retryAfter });
    if (last.includes('[slow]')) await new Promise((r) => setTimeout(r, SLOW_MS).unref());
    if (res.destroyed) return;

    if (forced) return this.forcedToolCall(res, forced, last);
    const turn = body.tools?.length && body.tool_choice !== 'none' ? this.nextTurn(body, last) : undefined;
    if (!body.stream) {
      const content = body.tools?.length ? TOOL_REPLY : REPLY;
      return json(res, 200, { choices: [{ message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: STREAM_USAGE });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (turn) return this.streamToolTurn(res, turn);
    const afterTools = body.messages.some((m) => m.role === 'tool');
    await this.streamAnswer(res, afterTools ? TOOL_REPLY : REPLY, last.includes('[think]'));
    if (last.includes('[cut]')) return void res.end();
    send(res, { choices: [{ delta: {}, finish_reason: 'stop' }] });
    send(res, { choices: [], usage: STREAM_USAGE });
    res.end('data: [DONE]\n\n');
  }

  /** The tool calls of this turn of the loop, or undefined when every turn has been made. */
  private nextTurn(body: RecordedRequest['body'], last: string): Array<{ name: string; args: Record<string, unknown> }> | undefined {
    const turns = [...last.matchAll(/\[call ([\w.+-]+)\]/g)].map((m) => m[1].split('+'));
    const lastUserAt = body.messages.map((m) => m.role).lastIndexOf('user');
    const made = body.messages.slice(lastUserAt).filter((m) => m.role === 'assistant' && m.tool_calls?.length).length;
    const names = turns[made];
    if (!names) return undefined;
    const offered = (body.tools ?? []).map((t) => t.function.name);
    return names.map((wanted) => ({
      name: offered.find((n) => n === wanted) ?? offered.find((n) => n.endsWith(`_${wanted}`)) ?? wanted,
      args: this.toolArgs[wanted] ?? DEFAULT_TOOL_ARGS[wanted] ?? {},
    }));
  }

  /** Reasoning, then every call of the turn, each call's arguments in two pieces. */
  private async streamToolTurn(res: ServerResponse, calls: Array<{ name: string; args: Record<string, unknown> }>) {
    for (const piece of REASONING.match(/\S+\s*/g) ?? []) {
      send(res, { choices: [{ delta: { reasoning_content: piece } }] });
      await pause();
    }
    for (const [index, call] of calls.entries()) {
      const args = JSON.stringify(call.args);
      const cut = Math.floor(args.length / 2);
      const id = `call_fake_${Math.random().toString(36).slice(2, 10)}`;
      send(res, {
        choices: [
          { delta: { tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: args.slice(0, cut) } }] } },
        ],
      });
      await pause();
      send(res, { choices: [{ delta: { tool_calls: [{ index, function: { arguments: args.slice(cut) } }] } }] });
    }
    send(res, { choices: [{ delta: {}, finish_reason: 'tool_calls' }] });
    send(res, { choices: [], usage: TOOL_TURN_USAGE });
    res.end('data: [DONE]\n\n');
  }

  private async streamAnswer(res: ServerResponse, text: string, think: boolean) {
    if (think) {
      for (const piece of REASONING.match(/\S+\s*/g) ?? []) {
        send(res, { choices: [{ delta: { reasoning_content: piece } }] });
        await pause();
      }
    }
    for (const piece of text.match(/\S+\s*/g) ?? [text]) {
      send(res, { choices: [{ delta: { content: piece } }] });
      await pause();
    }
  }

  private forcedToolCall(res: ServerResponse, tool: string, last: string) {
    const args =
      tool === 'classify_intent'
        ? classify(last)
        : {
            sql: last.includes('[bad-sql]') ? 'SELECT nope FROM demo.orders' : FAKE_SQL,
            title: 'Revenue by region',
            confidence: 0.9,
            reasoning: 'Summing order amounts per customer region.',
          };
    const call = { id: 'call_1', type: 'function', function: { name: tool, arguments: JSON.stringify(args) } };
    return json(res, 200, {
      choices: [{ message: { role: 'assistant', content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 30, completion_tokens: 10 },
    });
  }
}

function lastUser(messages: RecordedMessage[]): string {
  const content = [...messages].reverse().find((m) => m.role === 'user')?.content;
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
}

function classify(text: string) {
  const t = text.toLowerCase();
  const intent = /\b(?:revenue|sales|orders|customers)\b|\[bad-sql\]/.test(t)
    ? 'data'
    : /\b(?:hi|hello|thanks)\b/.test(t)
      ? 'chitchat'
      : 'question';
  return { intent, confidence: 0.9, reasoning: `The fake model reads this as ${intent}.` };
}

function send(res: ServerResponse, chunk: unknown) {
  res.write(`data: ${JSON.stringify(chunk)}\n\n`);
}

function pause(): Promise<void> {
  return new Promise((r) => setTimeout(r, 2));
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
