import { HeraldClient } from '@herald/client';
import type { AgentEvent } from '@herald/contracts';
import IORedis from 'ioredis';
import type { Socket } from 'socket.io-client';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import {
  closeAll,
  connectClient,
  connectError,
  randomNamespace,
  startTestGateway,
  TestBus,
  tokenFor,
  type TestClient,
} from '../../support/gateway-harness';
import { SseClient } from '../../support/sse-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, waitFor } from '../../support/polling';

type ResumeAck = { ok: boolean; replayed?: number; lastId?: string; more?: boolean; error?: { code: string; retryAfterMs?: number } };
const resume = (socket: Socket, payload: object): Promise<ResumeAck> => socket.timeout(15_000).emitWithAck('events:resume', payload);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A WebSocket client that vanishes without a close frame, like a killed process (the TCP connection is destroyed). */
function kill(client: TestClient): void {
  const transport = client.socket.io.engine.transport as unknown as { ws?: { _socket?: { destroy(): void } } };
  transport.ws?._socket?.destroy();
}

describe('gateway: connections per user across instances (MAX_CONNECTIONS_PER_USER)', () => {
  const ns = randomNamespace();
  let gwA: RunningGateway;
  let gwB: RunningGateway;
  let bus: TestBus;
  let redis: IORedis;
  const clients: TestClient[] = [];
  const streams: SseClient[] = [];
  const events = (gw: RunningGateway, token: string) => {
    const sse = SseClient.open(`${gw.url}/v1/events`, { authorization: `Bearer ${token}` });
    void sse.then((s) => streams.push(s));
    return sse;
  };

  beforeAll(async () => {
    [gwA, gwB] = await Promise.all([startTestGateway(ns), startTestGateway(ns)]);
    bus = await TestBus.open(ns);
    redis = new IORedis(REDIS_URL);
  });
  afterEach(() => {
    closeAll(...clients.splice(0));
    streams.splice(0).forEach((s) => s.close());
  });
  afterAll(async () => {
    await Promise.all([gwA?.close(), gwB?.close()]);
    await redis?.quit();
    await bus?.cleanup();
  });

  it('refuses the 21st connection, socket or SSE stream, on either gateway with TOO_MANY_CONNECTIONS', async () => {
    const token = await tokenFor('crowded');
    for (let i = 0; i < 10; i++) clients.push(await connectClient(gwA.url, token));
    for (let i = 0; i < 9; i++) clients.push(await connectClient(gwB.url, token));
    const sse = await events(gwB, token); // the 20th: SSE streams count with sockets
    expect(sse.response.status).toBe(200);

    for (const gw of [gwA, gwB]) {
      const err = await connectError(gw.url, { auth: { token } });
      expect(err.message).toBe('too many connections');
      expect(err.data).toEqual({ code: 'TOO_MANY_CONNECTIONS', message: expect.stringMatching(/too many connections/) });
      const refused = await fetch(`${gw.url}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await refused.json()).toEqual({ error: { code: 'TOO_MANY_CONNECTIONS', message: expect.any(String), retryAfterMs: 5000 } });
    }
    expect(await redis.zcard(bus.subjects.keys.connections('crowded'))).toBe(20);
    // Two refusals on each gateway (a socket, a stream), counted where they happened.
    for (const gw of [gwA, gwB]) {
      expect(await (await fetch(gw.metricsUrl)).text()).toMatch(/^herald_gateway_limit_refusals_total\{limit="connections"\} 2$/m);
    }
    // The polling transport is refused alike, and another user is not affected.
    expect((await connectError(gwA.url, { auth: { token }, transports: ['polling'] })).data?.code).toBe('TOO_MANY_CONNECTIONS');
    clients.push(await connectClient(gwA.url, await tokenFor('someone-else')));
  });

  it('frees the slot of a closed socket, a killed client and a closed SSE stream', async () => {
    const token = await tokenFor('churn');
    for (let i = 0; i < 18; i++) clients.push(await connectClient(i % 2 ? gwA.url : gwB.url, token));
    const sse = await events(gwA, token);
    const doomed = await connectClient(gwB.url, token);
    clients.push(doomed);
    expect((await connectError(gwA.url, { auth: { token } })).data?.code).toBe('TOO_MANY_CONNECTIONS');

    // A socket closed by its client.
    clients.shift()!.socket.close();
    await eventually(async () => {
      clients.push(await connectClient(gwA.url, token));
    });
    expect((await connectError(gwB.url, { auth: { token } })).data?.code).toBe('TOO_MANY_CONNECTIONS');

    // A client that vanished: its TCP connection is gone without a goodbye.
    kill(doomed);
    await eventually(async () => {
      clients.push(await connectClient(gwA.url, token));
    });
    expect((await connectError(gwA.url, { auth: { token } })).data?.code).toBe('TOO_MANY_CONNECTIONS');

    // An SSE stream closed by its client.
    sse.close();
    await eventually(async () => {
      clients.push(await connectClient(gwB.url, token));
    });
    expect((await connectError(gwB.url, { auth: { token } })).data?.code).toBe('TOO_MANY_CONNECTIONS');
    expect(await redis.zcard(bus.subjects.keys.connections('churn'))).toBe(20);
  });

  it('gives back every slot of a gateway that shuts down', async () => {
    const gwC = await startTestGateway(ns);
    try {
      const token = await tokenFor('leaving');
      for (let i = 0; i < 5; i++) await connectClient(gwC.url, token);
      await events(gwC, token);
      expect(await redis.zcard(bus.subjects.keys.connections('leaving'))).toBe(6);
    } finally {
      await gwC.close();
    }
    expect(await redis.zcard(bus.subjects.keys.connections('leaving'))).toBe(0);
  });
});

describe('gateway: concurrent replays per user across instances (MAX_CONCURRENT_REPLAYS_PER_USER)', () => {
  const ns = randomNamespace();
  let gwA: RunningGateway;
  let gwB: RunningGateway;
  let bus: TestBus;
  let redis: IORedis;
  const clients: TestClient[] = [];
  const connect = async (gw: RunningGateway, userId: string) => {
    const c = await connectClient(gw.url, await tokenFor(userId));
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const env = { MAX_CONCURRENT_REPLAYS_PER_USER: '2' };
    [gwA, gwB] = await Promise.all([startTestGateway(ns, env), startTestGateway(ns, env)]);
    bus = await TestBus.open(ns);
    redis = new IORedis(REDIS_URL);
  });
  afterEach(() => closeAll(...clients.splice(0)));
  afterAll(async () => {
    await Promise.all([gwA?.close(), gwB?.close()]);
    await redis?.quit();
    await bus?.cleanup();
  });

  it('makes one more replay wait its turn, then refuses it RATE_LIMITED with retryAfterMs (socket and SSE)', async () => {
    const userId = 'replayer';
    const published: string[] = [];
    for (let i = 0; i < 5; i++) published.push(await bus.status({ userId, conversationId: 'c', runId: 'r' }));
    const key = bus.subjects.keys.replays(userId);
    // Two replays running elsewhere (another instance's leases, for a minute).
    await redis.zadd(key, Date.now() + 60_000, 'elsewhere-1', Date.now() + 60_000, 'elsewhere-2');

    const client = await connect(gwA, userId);
    const started = Date.now();
    const refused = await resume(client.socket, { after: '0' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500); // it waited its turn first
    expect(refused).toEqual({ ok: false, error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: expect.any(Number) } });
    expect(refused.error!.retryAfterMs).toBeGreaterThan(0);
    expect(client.events).toHaveLength(0);

    const sse = await fetch(`${gwB.url}/v1/events?after=0`, { headers: { authorization: `Bearer ${await tokenFor(userId)}` } });
    expect(sse.status).toBe(429);
    expect(Number(sse.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await sse.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });

    // A slot frees while the next one waits: it goes ahead.
    const waiting = resume(client.socket, { after: '0' });
    await sleep(300);
    await redis.zrem(key, 'elsewhere-1');
    expect(await waiting).toEqual({ ok: true, replayed: 5, lastId: published[4], more: false });
    expect(client.events.map((e) => e.id)).toEqual(published);
    // Its slot went back with it.
    await eventually(async () => expect(await redis.zrange(key, 0, -1)).toEqual(['elsewhere-2']));
  });

  it('never runs more replays of one user at once than allowed, across both gateways; the others wait, or are refused cleanly and succeed when retried', async () => {
    const userId = 'stampede';
    const published: string[] = [];
    for (let i = 0; i < 800; i++) published.push(await bus.status({ userId, conversationId: `c${i % 3}`, runId: 'r' }));
    const sockets = await Promise.all([gwA, gwB, gwA, gwB, gwA, gwB].map((gw) => connect(gw, userId)));
    const key = bus.subjects.keys.replays(userId);
    let most = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        most = Math.max(most, await redis.zcard(key));
        await sleep(2);
      }
    })();
    let refusals = 0;
    const acks = await Promise.all(
      sockets.map(async (c) => {
        for (;;) {
          const ack = await resume(c.socket, { after: '0' });
          if (ack.ok || ack.error?.code !== 'RATE_LIMITED') return ack;
          // Refused before anything was sent, with a time to come back.
          refusals++;
          expect(c.events).toHaveLength(0);
          expect(ack.error.retryAfterMs).toBeGreaterThan(0);
          await sleep(ack.error.retryAfterMs!);
        }
      }),
    );
    watching = false;
    await watcher;
    for (const ack of acks) expect(ack).toEqual({ ok: true, replayed: 800, lastId: published.at(-1), more: false });
    for (const c of sockets) expect(c.events.map((e) => e.id)).toEqual(published);
    expect(most).toBe(2);
    expect(refusals).toBeLessThan(50);
    expect(await redis.exists(key)).toBe(0);
  });
});

describe('gateway: events:resume in pieces of REPLAY_MAX_EVENTS', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  const clients: TestClient[] = [];
  const connect = async (userId: string) => {
    const c = await connectClient(gw.url, await tokenFor(userId));
    clients.push(c);
    return c;
  };
  const ids = (events: AgentEvent[]) => events.map((e) => e.id);

  beforeAll(async () => {
    gw = await startTestGateway(ns, { REPLAY_MAX_EVENTS: '50' });
    bus = await TestBus.open(ns);
  });
  afterEach(() => closeAll(...clients.splice(0)));
  afterAll(async () => {
    await gw?.close();
    await bus?.cleanup();
  });

  it('acks more: true after REPLAY_MAX_EVENTS, withholds live events until the next call, and the calls leave no gap and no reordering', async () => {
    const userId = 'pieces';
    const published: string[] = [];
    for (let i = 0; i < 120; i++) published.push(await bus.status({ userId, conversationId: `c${i % 2}`, runId: 'r' }));
    const client = await connect(userId);

    const first = await resume(client.socket, { after: '0' });
    expect(first).toEqual({ ok: true, replayed: 50, lastId: published[49], more: true });
    // While `more` is true, nothing later than lastId reaches the socket live: the next call replays it.
    const liveMeanwhile = await bus.status({ userId, conversationId: 'c0', runId: 'r' });
    await sleep(300);
    expect(ids(client.events)).toEqual(published.slice(0, 50));

    const second = await resume(client.socket, { after: first.lastId });
    expect(second).toEqual({ ok: true, replayed: 50, lastId: published[99], more: true });
    const third = await resume(client.socket, { after: second.lastId });
    expect(third).toEqual({ ok: true, replayed: 21, lastId: liveMeanwhile, more: false });

    // Done: live again.
    const live = await bus.status({ userId, conversationId: 'c1', runId: 'r' });
    await waitFor(() => client.events.some((e) => e.id === live), 'the live event', 3000);
    expect(ids(client.events)).toEqual([...published, liveMeanwhile, live]);
  });

  it('answers more: false when exactly REPLAY_MAX_EVENTS were left', async () => {
    const userId = 'exactly';
    const published: string[] = [];
    for (let i = 0; i < 50; i++) published.push(await bus.status({ userId, conversationId: 'c', runId: 'r' }));
    const client = await connect(userId);
    expect(await resume(client.socket, { after: '0' })).toEqual({ ok: true, replayed: 50, lastId: published[49], more: false });
  });

  it("keeps other conversations' events live while a conversation-scoped resume has more", async () => {
    const userId = 'scoped-pieces';
    const conversationId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    const inScope: string[] = [];
    for (let i = 0; i < 60; i++) inScope.push(await bus.status({ userId, conversationId, runId: 'r' }));
    const client = await connect(userId);
    const first = await resume(client.socket, { after: '0', conversationId });
    expect(first).toEqual({ ok: true, replayed: 50, lastId: inScope[49], more: true });

    const elsewhere = await bus.status({ userId, conversationId: 'another', runId: 'r2' });
    const withheld = await bus.status({ userId, conversationId, runId: 'r' });
    await waitFor(() => client.events.some((e) => e.id === elsewhere), 'the other conversation event', 3000);
    await sleep(200);
    expect(client.events.some((e) => e.id === withheld)).toBe(false);

    const rest = await resume(client.socket, { after: first.lastId, conversationId });
    expect(rest).toEqual({ ok: true, replayed: 11, lastId: withheld, more: false });
    expect(ids(client.events)).toEqual([...inScope.slice(0, 50), elsewhere, ...inScope.slice(50), withheld]);
  });

  it('the typed client calls again while more, and delivers everything once and in order while events keep coming', async () => {
    const userId = 'typed-pieces';
    const published: string[] = [];
    for (let i = 0; i < 130; i++) published.push(await bus.status({ userId, conversationId: `c${i % 3}`, runId: 'r' }));
    const client = new HeraldClient({ url: gw.url, token: await tokenFor(userId), autoResume: false });
    const delivered: string[] = [];
    client.onEvent((e) => delivered.push(e.id));
    await client.connect();
    try {
      const producer = (async () => {
        for (let i = 0; i < 40; i++) {
          published.push(await bus.status({ userId, conversationId: 'c0', runId: 'r' }));
          if (i % 5 === 0) await sleep(2);
        }
      })();
      const result = await client.resume('0');
      await producer;
      expect(result.more).toBe(false);
      expect(result.replayed).toBeGreaterThanOrEqual(130);
      await waitFor(() => delivered.includes(published.at(-1)!), 'the last event', 5000);
      expect(delivered).toEqual(published);
    } finally {
      client.close();
    }
  });

  it('never cuts an SSE replay', async () => {
    const userId = 'sse-long';
    const published: string[] = [];
    for (let i = 0; i < 120; i++) published.push(await bus.status({ userId, conversationId: 'c', runId: 'r' }));
    const sse = await SseClient.open(`${gw.url}/v1/events?after=0`, { authorization: `Bearer ${await tokenFor(userId)}` });
    try {
      await waitFor(() => sse.events.length >= 120, 'the whole replay', 5000);
      expect(sse.events.map((e) => e.id)).toEqual(published);
    } finally {
      sse.close();
    }
  });
});
