import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OpenAI-compatible chat completions endpoint for tests. What it does is chosen by
 * markers in the last user message:
 *  - `[bad-sql]` write_sql always answers a query EXPLAIN refuses;
 *  - `[fail-500]` always 500; `[fail-401]` always 401; `[flaky]` a 429 (Retry-After: 0) and
 *    a 503 before it answers; `[retry-after-N]` a 429 with Retry-After: N before it answers; `[slow]` waits SLOW_MS before answering; `[cut]` ends the
 *    stream without `[DONE]`;
 *  - otherwise a forced tool call gets plausible arguments (classify_intent: by keywords;
 *    write_sql: a revenue-by-region query), and a completion streams REPLY in small chunks.
 * Every request is recorded.
 */
export const REPLY = 'Hello from the fake model. Herald streams every step.';
export const SLOW_MS = 30_000;
export const FAKE_SQL =
  'SELECT c.region, round(sum(o.amount), 2) AS revenue FROM demo.orders o JOIN demo.customers c ON c.id = o.customer_id GROUP BY 1 ORDER BY 2 DESC';

export interface RecordedRequest {
  /** When it arrived (performance.now()). */
  at: number;
  authorization?: string;
  body: {
    model: string;
    stream?: boolean;
    messages: Array<{ role: string; content: string }>;
    tools?: Array<{ function: { name: string } }>;
  };
}

export class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
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

  private async handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as RecordedRequest['body'];
    this.requests.push({ at: performance.now(), authorization: req.headers.authorization, body });
    const last = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const key = `${body.tools?.[0]?.function.name ?? 'chat'}:${last}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);

    if (last.includes('[fail-500]')) return json(res, 500, { error: { message: 'internal error at /srv/model.py:42' } });
    if (last.includes('[fail-401]')) return json(res, 401, { error: { message: 'invalid api key' } });
    if (last.includes('[flaky]') && attempt === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '0' });
    if (last.includes('[flaky]') && attempt === 2) return json(res, 503, { error: { message: 'overloaded' } });
    const retryAfter = /\[retry-after-(\d+)\]/.exec(last)?.[1];
    if (retryAfter && attempt === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': retryAfter });
    if (last.includes('[slow]')) await new Promise((r) => setTimeout(r, SLOW_MS).unref());
    if (res.destroyed) return;

    const tool = body.tools?.[0]?.function.name;
    if (tool) return this.toolCall(res, body, tool, last);
    const usage = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 };
    if (!body.stream) return json(res, 200, { choices: [{ message: { role: 'assistant', content: REPLY } }], usage });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const pieces = REPLY.match(/\S+\s*/g) ?? [REPLY];
    for (const piece of pieces) {
      res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: piece } }] })}\n\n`);
      await new Promise((r) => setTimeout(r, 2));
    }
    if (last.includes('[cut]')) return void res.end();
    res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  private toolCall(res: ServerResponse, body: RecordedRequest['body'], tool: string, last: string) {
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
      choices: [{ message: { role: 'assistant', content: null, tool_calls: [call] } }],
      usage: { prompt_tokens: 30, completion_tokens: 10 },
    });
  }
}

function classify(text: string) {
  const t = text.toLowerCase();
  const intent = /\b(revenue|sales|orders|customers)\b|\[bad-sql\]/.test(t)
    ? 'data'
    : /\b(hi|hello|thanks)\b/.test(t)
      ? 'chitchat'
      : 'question';
  return { intent, confidence: 0.9, reasoning: `The fake model reads this as ${intent}.` };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
