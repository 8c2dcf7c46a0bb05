import { request as httpRequest, type IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import type { Subscription } from 'nats';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import type { PersistenceHarness } from '../../support/persistence-harness';
import {
  closeAll,
  connectClient,
  randomNamespace,
  startTestGateway,
  TestBus,
  tokenFor,
  type TestClient,
} from '../../support/gateway-harness';
import { SseClient } from '../../support/sse-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { waitFor } from '../../support/polling';

/** Counts the requests sent on a NATS subject (a plain subscription sees them beside the fake persistence). */
class RequestCounter {
  count = 0;
  private readonly sub: Subscription;
  constructor(
    private readonly bus: TestBus,
    subject: string,
  ) {
    this.sub = bus.nc.subscribe(subject, { callback: () => this.count++ });
  }
  /** The count once every request sent so far has surely arrived. */
  async settled(): Promise<number> {
    await this.bus.nc.flush();
    await sleep(50);
    return this.count;
  }
  close(): void {
    this.sub.unsubscribe();
  }
}

describe('gateway: HTTP reads per user across instances (READ_RATE_LIMIT_PER_MINUTE)', () => {
  const ns = randomNamespace();
  let gwA: RunningGateway;
  let gwB: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    const env = { READ_RATE_LIMIT_PER_MINUTE: '6' };
    [gwA, gwB] = await Promise.all([startTestGateway(ns, env), startTestGateway(ns, env)]);
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
  });
  afterAll(async () => {
    closeAll(...clients);
    await persistence?.close();
    await Promise.all([gwA?.close(), gwB?.close()]);
    await bus?.cleanup();
  });

  it('counts every authenticated GET on either gateway (304s and an SSE opening included, handshakes and POSTs not), then 429 with Retry-After', async () => {
    const userId = 'reader';
    const auth = { authorization: `Bearer ${await tokenFor(userId)}` };
    const runId = await persistence.addRun(userId, 'running');
    // Socket.IO handshakes are not reads.
    for (let i = 0; i < 3; i++) clients.push(await connectClient(i % 2 ? gwA.url : gwB.url, auth.authorization.slice(7)));

    expect((await fetch(`${gwA.url}/v1/conversations`, { headers: auth })).status).toBe(200); // 1
    const first = await fetch(`${gwB.url}/v1/runs/${runId}`, { headers: auth }); // 2
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect((await fetch(`${gwA.url}/v1/runs/${runId}`, { headers: { ...auth, 'if-none-match': etag } })).status).toBe(304); // 3
    const sse = await SseClient.open(`${gwB.url}/v1/events`, auth); // 4: counted once, when it opens
    try {
      expect(sse.response.status).toBe(200);
      await sleep(200);
      // Not reads: a POST, and an unauthenticated GET (401, whoever it claims to be).
      expect((await fetch(`${gwA.url}/v1/runs/${runId}/cancel`, { method: 'POST', headers: auth })).status).toBe(202);
      expect((await fetch(`${gwA.url}/v1/conversations`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
      expect((await fetch(`${gwA.url}/v1/conversations`, { headers: auth })).status).toBe(200); // 5
      expect((await fetch(`${gwB.url}/v1/conversations`, { method: 'HEAD', headers: auth })).status).toBe(200); // 6

      for (const gw of [gwA, gwB]) {
        const limited = await fetch(`${gw.url}/v1/runs/${runId}`, { headers: { ...auth, 'if-none-match': etag } });
        expect(limited.status).toBe(429);
        const retryAfter = Number(limited.headers.get('retry-after'));
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(await limited.json()).toEqual({
          error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: expect.any(Number) },
        });
      }
      const sseLimited = await fetch(`${gwA.url}/v1/events`, { headers: auth });
      expect(sseLimited.status).toBe(429);
      expect(await (await fetch(gwA.metricsUrl)).text()).toMatch(/^herald_gateway_limit_refusals_total\{limit="reads"\} 2$/m);
      // The open stream goes on, and another user reads as usual.
      expect(sse.ended).toBe(false);
      const other = { authorization: `Bearer ${await tokenFor('another-reader')}` };
      expect((await fetch(`${gwB.url}/v1/conversations`, { headers: other })).status).toBe(200);
    } finally {
      sse.close();
    }
  });
});

describe('gateway: ratings count against READ_RATE_LIMIT_PER_MINUTE', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let ratings: RequestCounter;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway(ns, { READ_RATE_LIMIT_PER_MINUTE: '3' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
    ratings = new RequestCounter(bus, bus.subjects.rpc('feedback.set'));
  });
  afterAll(async () => {
    ratings?.close();
    closeAll(...clients);
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  it('counts well-formed ratings (socket and HTTP), not malformed ones, and refuses the next with RATE_LIMITED before storage', async () => {
    const token = await tokenFor('rater');
    const client = await connectClient(gw.url, token);
    clients.push(client);
    const rate = (payload: unknown) =>
      client.socket.timeout(5000).emitWithAck('message:feedback', payload) as Promise<{
        ok: boolean;
        error?: { code: string; retryAfterMs?: number };
      }>;

    // Malformed: refused before the limiter and before storage.
    for (const bad of [
      { messageId: 'x', rating: 'up' },
      { messageId: randomUUID(), rating: 'sideways' },
    ]) {
      expect(await rate(bad)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    // Three well-formed ones reach storage (no such message there).
    for (let i = 0; i < 2; i++)
      expect(await rate({ messageId: randomUUID(), rating: 'up' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const put = (body: unknown) =>
      fetch(`${gw.url}/v1/messages/${randomUUID()}/feedback`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put({ rating: 'down' })).status).toBe(404);

    const limited = await rate({ messageId: randomUUID(), rating: null });
    expect(limited).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } });
    expect(limited.error!.retryAfterMs).toBeGreaterThan(0);
    const limitedHttp = await put({ rating: 'up' });
    expect(limitedHttp.status).toBe(429);
    expect(Number(limitedHttp.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await ratings.settled()).toBe(3);
  });
});

describe('gateway: GET /v1/runs/:runId polling with ETags', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let runGets: RequestCounter;

  beforeAll(async () => {
    gw = await startTestGateway(ns);
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
    runGets = new RequestCounter(bus, bus.subjects.rpc('run.get'));
  });
  afterAll(async () => {
    runGets?.close();
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  const get = async (userId: string, runId: string, ifNoneMatch?: string) =>
    fetch(`${gw.url}/v1/runs/${runId}`, {
      headers: { authorization: `Bearer ${await tokenFor(userId)}`, ...(ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {}) },
    });

  /** The run's stored last event id, once persistence's event writer has folded `eventId` in. */
  const folded = (runId: string, eventId: string) =>
    waitFor(
      async () =>
        (await persistence.rows<{ last: string }>('SELECT last_event_id::text AS last FROM runs WHERE id = $1', [runId]))[0]?.last ===
        eventId,
      `event ${eventId} folded into run ${runId}`,
    );

  /** A run with `events` events in the stream, and a snapshot that has folded them in (persistence's event writer). */
  async function runWithEvents(userId: string, events: number) {
    const { runId, conversationId } = await persistence.admit(userId);
    const scope = { userId, conversationId, runId };
    // As the orchestrator starts a run: orchestration_started (which sets startedAt), then the events.
    let lastEventId = String(await bus.publisher.publish(scope, 'orchestration_started', {}, { progress: 0.05, msgId: `${runId}:start` }));
    for (let i = 1; i < events; i++) lastEventId = await bus.status(scope);
    await folded(runId, lastEventId);
    return { runId, scope };
  }

  it('answers 304 without a persistence round trip while the run has no new event, and 200 once it changed', async () => {
    const { runId, scope } = await runWithEvents('poller', 3);
    const first = await get('poller', runId);
    expect(first.status).toBe(200);
    const tag = first.headers.get('etag')!;
    const body = await first.json();
    expect(body).toMatchObject({ runId, status: 'running', progress: 0.5 });
    const before = await runGets.settled();

    for (const candidate of [tag, `W/${tag}`, `"other", ${tag}`]) {
      const again = await get('poller', runId, candidate);
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(tag);
      expect(again.headers.get('cache-control')).toBe('no-cache');
    }
    expect(await runGets.settled()).toBe(before); // three 304s, no persistence call

    // A new event while persistence has not folded it in yet (its writer waits on a lock of the
    // runs table that still lets it read): persistence is asked, and the snapshot it has is still
    // the one the client has.
    const locker = new Client({ connectionString: persistence.databaseUrl });
    await locker.connect();
    let next: string;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE runs IN SHARE MODE');
      next = await bus.status(scope);
      expect((await get('poller', runId, tag)).status).toBe(304);
      expect(await runGets.settled()).toBe(before + 1);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }

    // Persistence caught up: a changed run never answers 304.
    await folded(runId, next);
    const changed = await get('poller', runId, tag);
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ progress: 0.5, lastEventId: next });
    const newTag = changed.headers.get('etag')!;
    expect(newTag).not.toBe(tag);
    expect(await runGets.settled()).toBe(before + 2);
    expect((await get('poller', runId, newTag)).status).toBe(304);
    expect(await runGets.settled()).toBe(before + 2);

    // The run ends: its terminal event is a new event.
    const last = String(
      await bus.publisher.publish(scope, 'orchestration_completed', { durationMs: 1 }, { progress: 1, msgId: `${runId}:end` }),
    );
    await folded(runId, last);
    const ended = await get('poller', runId, newTag);
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ status: 'completed', progress: 1 });
  });

  it("never answers 304 from another user's tag, a made-up tag or a run that has not started", async () => {
    const { runId } = await runWithEvents('owner', 2);
    const tag = (await get('owner', runId)).headers.get('etag')!;
    // Another user with the owner's tag: nothing of theirs in the stream, and persistence says 404.
    expect((await get('intruder', runId, tag)).status).toBe(404);
    // A tag that names another conversation or another last event.
    const parts = /^"r:([^:]+):(\d+):(.+)"$/.exec(tag)!;
    expect((await get('owner', runId, `"r:${randomUUID()}:${parts[2]}:${parts[3]}"`)).status).toBe(200);
    expect((await get('owner', runId, `"r:${parts[1]}:${BigInt(parts[2]) + 1n}:${parts[3]}"`)).status).toBe(200);

    // A queued run (no event yet) changes without one when it is abandoned: always asked of persistence.
    const queued = await persistence.addRun('owner', 'queued');
    const first = await get('owner', queued);
    const plain = first.headers.get('etag')!;
    expect(plain).not.toMatch(/^"r:/);
    const before = await runGets.settled();
    expect((await get('owner', queued, plain)).status).toBe(304);
    expect(await runGets.settled()).toBe(before + 1);
    await persistence.setRunStatus(queued, 'failed');
    expect((await get('owner', queued, plain)).status).toBe(200);
  });
});

describe('gateway: a refused chat:send costs no persistence call', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let rpc: RequestCounter;
  let client: TestClient;
  type SendAck = { ok: boolean; runId?: string; error?: { code: string } };
  const send = (socket: Socket, payload: object): Promise<SendAck> => socket.timeout(10_000).emitWithAck('chat:send', payload);

  beforeAll(async () => {
    gw = await startTestGateway(ns, { RATE_LIMIT_PER_MINUTE: '2' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
    rpc = new RequestCounter(bus, bus.subjects.rpcAll);
    client = await connectClient(gw.url, await tokenFor('sender'));
  });
  afterAll(async () => {
    closeAll(client);
    rpc?.close();
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  it('refuses invalid and rate-limited sends, and acks a repeated clientMessageId at the limit, without asking persistence', async () => {
    expect((await send(client.socket, { conversationId: 'new', content: '   ' })).error?.code).toBe('INVALID_INPUT');
    expect((await send(client.socket, { conversationId: 'nope', content: 'hi' })).error?.code).toBe('INVALID_INPUT');
    expect(await rpc.settled()).toBe(0);

    const kept = await send(client.socket, { conversationId: 'new', content: 'first', clientMessageId: 'kept' });
    expect(kept.ok).toBe(true);
    expect((await send(client.socket, { conversationId: 'new', content: 'second' })).ok).toBe(true);
    const admitted = await rpc.settled();
    expect(admitted).toBe(2);

    // At the limit.
    expect((await send(client.socket, { conversationId: 'new', content: 'third' })).error?.code).toBe('RATE_LIMITED');
    expect((await send(client.socket, { conversationId: 'new', content: 'new key', clientMessageId: 'fresh' })).error?.code).toBe(
      'RATE_LIMITED',
    );
    expect(await send(client.socket, { conversationId: 'new', content: 'first', clientMessageId: 'kept' })).toEqual(kept);
    const http = await fetch(`${gw.url}/v1/conversations/new/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor('sender')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'first', clientMessageId: 'kept' }),
    });
    expect(http.status).toBe(202);
    expect(await http.json()).toMatchObject({ runId: kept.runId });
    expect(await rpc.settled()).toBe(admitted);
    expect(await persistence.runsOf('sender')).toHaveLength(2);
  });
});

describe('gateway: request bodies before the token is checked', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  const MiB = 1024 * 1024;

  beforeAll(async () => {
    gw = await startTestGateway(ns, { DEV_TOKENS: 'true', MAX_MESSAGE_CHARS: '100000' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
  });
  afterAll(async () => {
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  /**
   * Starts a POST that announces `length` bytes (or none: chunked) and sends only `sent` of
   * them, then waits for the answer: a server that reads bodies before checking the token
   * would wait for the rest and never answer.
   */
  function partialPost(
    path: string,
    opts: { length?: number; sent: number; authorization?: string },
  ): Promise<{ status: number; body: string; connection?: string }> {
    return new Promise((resolve, reject) => {
      const { hostname, port } = new URL(gw.url);
      const req = httpRequest({
        host: hostname,
        port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(opts.length !== undefined ? { 'content-length': String(opts.length) } : {}),
          ...(opts.authorization ? { authorization: opts.authorization } : {}),
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no answer within 3 s to ${path}`));
      }, 3000);
      req.on('response', (res: IncomingMessage) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode!, body, connection: res.headers.connection });
        });
      });
      req.on('error', () => undefined); // the server closes the connection while the body is unsent
      req.write(`{"content":"${'x'.repeat(opts.sent)}`);
    });
  }

  it.each([
    ['without a token', undefined, '/v1/conversations/new/messages'],
    ['with a garbage token', 'Bearer garbage', '/v1/conversations/new/messages'],
    ['to the knowledge route (1 MiB for admins)', undefined, '/v1/knowledge'],
    ['to the dev-token route', undefined, '/v1/dev/token'],
  ])('answers 413 to a 1 MiB body %s without reading it', async (_label, authorization, path) => {
    const res = await partialPost(path, { length: MiB, sent: 1024, authorization });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'INVALID_INPUT', message: expect.stringMatching(/4kb/) } });
    expect(res.connection).toBe('close');
  });

  it('cuts an unauthenticated chunked body once it grows past 4 KiB', async () => {
    const res = await partialPost('/v1/conversations/new/messages', { sent: 8 * 1024 });
    expect(res.status).toBe(413);
  });

  it('still reads a small unauthenticated body: 400 for bad JSON, 401 for a valid one, a dev token for the dev route', async () => {
    const post = (path: string, body: string) =>
      fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post('/v1/conversations/new/messages', '{bad')).status).toBe(400);
    expect((await post('/v1/conversations/new/messages', JSON.stringify({ content: 'x'.repeat(3000) }))).status).toBe(401);
    const dev = await post('/v1/dev/token', JSON.stringify({ userId: 'dev-user' }));
    expect(dev.status).toBe(200);
    expect((await post('/v1/dev/token', JSON.stringify({ userId: 'x'.repeat(5000) }))).status).toBe(413);
  });

  it('keeps the full limit for an authenticated body', async () => {
    const authorization = `Bearer ${await tokenFor('big-body')}`;
    const res = await fetch(`${gw.url}/v1/conversations/new/messages`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x'.repeat(40 * 1024) }),
    });
    expect(res.status).toBe(202);
    const over = await fetch(`${gw.url}/v1/conversations/new/messages`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x'.repeat(70 * 1024) }),
    });
    expect(over.status).toBe(413);
    expect((await over.json()).error.message).toMatch(/64kb/);
  });
});
