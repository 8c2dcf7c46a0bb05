import { randomUUID } from 'node:crypto';
import { runCancelCommandSchema, runRequestSchema, runRespondCommandSchema, type Subjects } from '@herald/contracts';
import IORedis from 'ioredis';
import type { NatsConnection } from 'nats';
import type { Socket } from 'socket.io-client';
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
import { waitFor } from '../../support/polling';

type AckResponse = { ok: boolean; error?: { code: string; message: string; retryAfterMs?: number } } & Record<string, unknown>;

const ack = (socket: Socket, event: string, payload?: unknown): Promise<AckResponse> => socket.timeout(8000).emitWithAck(event, payload);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function runRequests(nc: NatsConnection, s: Subjects) {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(s.streams.runs);
  const out: Array<{ msgId: string | undefined; body: unknown }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(s.streams.runs, { seq }).catch(() => null);
    if (m) out.push({ msgId: m.header?.get('Nats-Msg-Id'), body: m.json() });
  }
  return out;
}

function collect(nc: NatsConnection, subject: string): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const sub = nc.subscribe(subject, { callback: (_e, msg) => seen.push(JSON.parse(new TextDecoder().decode(msg.data))) });
  return { seen, stop: () => sub.unsubscribe() };
}

describe('gateway: chat:send', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let alice: TestClient;

  beforeAll(async () => {
    gw = await startTestGateway(ns, { RATE_LIMIT_PER_MINUTE: '1000' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
    alice = await connectClient(gw.url, await tokenFor('alice'));
  });

  afterAll(async () => {
    closeAll(alice);
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  it('admits the run, publishes the run request to JetStream with msgID = runId, then acks', async () => {
    const res = await ack(alice.socket, 'chat:send', {
      conversationId: 'new',
      content: '  What is NATS?  ',
      options: { traceLevel: 'summary', stream: true },
    });
    expect(res).toEqual({
      ok: true,
      conversationId: expect.stringMatching(UUID_RE),
      runId: expect.stringMatching(UUID_RE),
      messageId: expect.stringMatching(UUID_RE),
      userMessageId: expect.stringMatching(UUID_RE),
    });
    const admitted = (await persistence.runsOf('alice')).at(-1)!;
    expect(admitted).toMatchObject({
      conversationId: res.conversationId,
      content: 'What is NATS?',
      runId: res.runId,
      messageId: res.messageId,
      userMessageId: res.userMessageId,
      options: { traceLevel: 'summary', stream: true, onBusy: 'enqueue' },
    });
    expect(new Set([res.runId, res.messageId, res.userMessageId, res.conversationId]).size).toBe(4);

    const published = (await runRequests(bus.nc, bus.subjects)).find((r) => r.msgId === res.runId);
    expect(published).toBeDefined();
    const request = runRequestSchema.parse(published!.body);
    expect(request).toMatchObject({
      runId: res.runId,
      userId: 'alice',
      conversationId: res.conversationId,
      messageId: res.messageId,
      userMessageId: res.userMessageId,
      content: 'What is NATS?',
      options: { traceLevel: 'summary', stream: true, onBusy: 'enqueue' },
    });
  });

  it("continues one of the user's conversations", async () => {
    const conversationId = await persistence.addConversation('alice');
    const res = await ack(alice.socket, 'chat:send', { conversationId: conversationId.toUpperCase(), content: 'more' });
    expect(res).toMatchObject({ ok: true, conversationId });
  });

  it("answers NOT_FOUND for an unknown conversation and for another user's alike, and publishes nothing", async () => {
    const before = (await runRequests(bus.nc, bus.subjects)).length;
    const unknown = await ack(alice.socket, 'chat:send', { conversationId: randomUUID(), content: 'hi' });
    const foreign = await ack(alice.socket, 'chat:send', { conversationId: await persistence.addConversation('bob'), content: 'hi' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(foreign).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(foreign.error!.message).toBe(unknown.error!.message);
    expect((await runRequests(bus.nc, bus.subjects)).length).toBe(before);
  });

  it('answers RUN_IN_PROGRESS for onBusy: reject while a run is active', async () => {
    const first = await ack(alice.socket, 'chat:send', { conversationId: 'new', content: 'one' });
    const second = await ack(alice.socket, 'chat:send', {
      conversationId: first.conversationId,
      content: 'two',
      options: { onBusy: 'reject' },
    });
    expect(second).toMatchObject({ ok: false, error: { code: 'RUN_IN_PROGRESS' } });
  });

  it('acks a repeated clientMessageId with the first answer and starts nothing new', async () => {
    const clientMessageId = `c-${randomUUID()}`;
    const first = await ack(alice.socket, 'chat:send', { conversationId: 'new', content: 'idempotent', clientMessageId });
    const countAfterFirst = (await runRequests(bus.nc, bus.subjects)).length;
    const again = await ack(alice.socket, 'chat:send', { conversationId: 'new', content: 'idempotent', clientMessageId });
    expect(again).toEqual(first);
    // The first run is still queued, so its request was published again: JetStream de-duplicated it.
    expect((await runRequests(bus.nc, bus.subjects)).length).toBe(countAfterFirst);
  });
});

describe('gateway: rate limit shared by instances', () => {
  const ns = randomNamespace();
  let gwA: RunningGateway;
  let gwB: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    gwA = await startTestGateway(ns, { RATE_LIMIT_PER_MINUTE: '3' });
    gwB = await startTestGateway(ns, { RATE_LIMIT_PER_MINUTE: '3' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
  });

  afterAll(async () => {
    closeAll(...clients);
    await persistence?.close();
    await gwA?.close();
    await gwB?.close();
    await bus?.cleanup();
  });

  const connect = async (gw: RunningGateway, userId: string) => {
    const c = await connectClient(gw.url, await tokenFor(userId));
    clients.push(c);
    return c.socket;
  };
  const send = (socket: Socket, extra: object = {}) => ack(socket, 'chat:send', { conversationId: 'new', content: 'hi', ...extra });

  it('allows RATE_LIMIT_PER_MINUTE messages per user across instances, then RATE_LIMITED with retryAfterMs', async () => {
    const onA = await connect(gwA, 'limited');
    const onB = await connect(gwB, 'limited');
    expect((await send(onA)).ok).toBe(true);
    expect((await send(onB)).ok).toBe(true);
    expect((await send(onA)).ok).toBe(true);
    const limited = await send(onB);
    expect(limited).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect(limited.error!.retryAfterMs).toBeGreaterThan(0);
    expect(limited.error!.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await send(onA)).error?.code).toBe('RATE_LIMITED');

    const http = await fetch(`${gwA.url}/v1/conversations/new/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor('limited')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'over the limit' }),
    });
    expect(http.status).toBe(429);
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(http.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await http.json()).error.code).toBe('RATE_LIMITED');

    const someoneElse = await connect(gwB, 'unlimited');
    expect((await send(someoneElse)).ok).toBe(true);
  });

  it('does not count repeats of a clientMessageId, nor messages that were not accepted', async () => {
    const socket = await connect(gwA, 'careful');
    for (let i = 0; i < 5; i++) expect((await send(socket, { clientMessageId: 'same' })).ok).toBe(true);
    for (let i = 0; i < 3; i++) expect((await send(socket, { conversationId: randomUUID() })).error?.code).toBe('NOT_FOUND');
    expect((await send(socket)).ok).toBe(true);
    expect((await send(socket)).ok).toBe(true);
    expect((await send(socket)).error?.code).toBe('RATE_LIMITED');
    // Stored: the first of the repeats and the two others; the repeats and the refused ones took no slot.
    expect(await persistence.runsOf('careful')).toHaveLength(1 + 2);
  });

  it('acks a repeated clientMessageId with its first run even at the limit, and still refuses new messages', async () => {
    const socket = await connect(gwB, 'at-the-limit');
    const first = await send(socket, { clientMessageId: 'kept' });
    expect(first.ok).toBe(true);
    expect((await send(socket)).ok).toBe(true);
    expect((await send(socket)).ok).toBe(true);
    expect((await send(socket)).error?.code).toBe('RATE_LIMITED');

    const onA = await connect(gwA, 'at-the-limit');
    expect(await send(onA, { clientMessageId: 'kept' })).toEqual(first);
    expect(await send(socket, { clientMessageId: 'kept', content: 'edited' })).toEqual(first);
    const fresh = await send(onA, { clientMessageId: 'never-sent' });
    expect(fresh).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect(fresh.error!.retryAfterMs).toBeGreaterThan(0);
    expect((await send(socket)).error?.code).toBe('RATE_LIMITED');
    expect(await persistence.runsOf('at-the-limit')).toHaveLength(3);
  });
});

describe('gateway: chat:send when a backing service is down', () => {
  it('answers UNAVAILABLE promptly when persistence does not answer', async () => {
    const ns = randomNamespace();
    const gw = await startTestGateway(ns);
    const bus = await TestBus.open(ns);
    const client = await connectClient(gw.url, await tokenFor('alone'));
    try {
      const started = Date.now();
      const res = await ack(client.socket, 'chat:send', { conversationId: 'new', content: 'anyone?' });
      expect(res).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      closeAll(client);
      await gw.close();
      await bus.cleanup();
    }
  });

  it('answers UNAVAILABLE and admits nothing when Redis is unreachable', async () => {
    const ns = randomNamespace();
    const gw = await startTestGateway(ns, { REDIS_URL: 'redis://127.0.0.1:1' });
    const bus = await TestBus.open(ns);
    const persistence = await bus.persistence();
    const client = await connectClient(gw.url, await tokenFor('no-redis'));
    try {
      const res = await ack(client.socket, 'chat:send', { conversationId: 'new', content: 'hello' });
      expect(res).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
      expect(await persistence.rows('SELECT id FROM runs')).toEqual([]);
      const ready = await fetch(`${gw.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks.redis.ok).toBe(false);
    } finally {
      closeAll(client);
      await persistence.close();
      await gw.close();
      await bus.cleanup();
    }
  });

  it('abandons the admitted run and answers UNAVAILABLE when JetStream refuses the run request', async () => {
    const ns = randomNamespace();
    const gw = await startTestGateway(ns);
    const bus = await TestBus.open(ns);
    const persistence = await bus.persistence();
    const client = await connectClient(gw.url, await tokenFor('unlucky'));
    try {
      const jsm = await bus.nc.jetstreamManager();
      await jsm.streams.delete(bus.subjects.streams.runs);
      const res = await ack(client.socket, 'chat:send', { conversationId: 'new', content: 'lost?' });
      expect(res).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
      const [admitted] = await persistence.runsOf('unlucky');
      await waitFor(async () => (await persistence.runsOf('unlucky'))[0].status === 'failed', 'the run abandoned', 3000);
      expect(admitted.content).toBe('lost?');
    } finally {
      closeAll(client);
      await persistence.close();
      await gw.close();
      await bus.cleanup();
    }
  });
});

describe('gateway: run:cancel and run:respond', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let client: TestClient;
  let redis: IORedis;

  beforeAll(async () => {
    gw = await startTestGateway(ns);
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
    client = await connectClient(gw.url, await tokenFor('owner'));
    redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    closeAll(client);
    await redis?.quit();
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  it("answers NOT_FOUND for an unknown run and another user's run alike", async () => {
    const unknown = await ack(client.socket, 'run:cancel', { runId: randomUUID() });
    const foreign = await ack(client.socket, 'run:cancel', { runId: await persistence.addRun('someone-else', 'running') });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(foreign).toEqual(unknown);
  });

  it.each(['completed', 'failed', 'cancelled'] as const)('answers alreadyFinished for a %s run and sends nothing', async (status) => {
    const commands = collect(bus.nc, bus.subjects.runCancel);
    const runId = await persistence.addRun('owner', status);
    expect(await ack(client.socket, 'run:cancel', { runId })).toEqual({ ok: true, alreadyFinished: true });
    await bus.nc.flush();
    expect(commands.seen).toHaveLength(0);
    expect(await redis.exists(bus.subjects.keys.runCancelled(runId))).toBe(0);
    commands.stop();
  });

  it.each(['queued', 'running', 'waiting'] as const)('cancels a %s run: Redis mark (24 h) and a cancel command', async (status) => {
    const commands = collect(bus.nc, bus.subjects.runCancel);
    await bus.nc.flush();
    const runId = await persistence.addRun('owner', status);
    expect(await ack(client.socket, 'run:cancel', { runId })).toEqual({ ok: true });
    const ttl = await redis.ttl(bus.subjects.keys.runCancelled(runId));
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
    await waitFor(() => commands.seen.length === 1, 'cancel command', 3000);
    expect(runCancelCommandSchema.parse(commands.seen[0])).toMatchObject({ runId, userId: 'owner' });
    commands.stop();
  });

  it('forwards run:respond for an active run (clarification and approval)', async () => {
    const commands = collect(bus.nc, bus.subjects.runRespond);
    await bus.nc.flush();
    const runId = await persistence.addRun('owner', 'waiting');
    expect(await ack(client.socket, 'run:respond', { runId, requestId: 'q1', response: 'the blue one' })).toEqual({ ok: true });
    expect(await ack(client.socket, 'run:respond', { runId, requestId: 'q2', response: { approved: true, comment: 'go' } })).toEqual({
      ok: true,
    });
    await waitFor(() => commands.seen.length === 2, 'respond commands', 3000);
    expect(commands.seen.map((c) => runRespondCommandSchema.parse(c))).toEqual([
      { runId, userId: 'owner', requestId: 'q1', response: 'the blue one' },
      { runId, userId: 'owner', requestId: 'q2', response: { approved: true, comment: 'go' } },
    ]);
    commands.stop();
  });

  it('refuses run:respond for a finished run (INVALID_INPUT) and a foreign one (NOT_FOUND)', async () => {
    const finished = await persistence.addRun('owner', 'completed');
    expect(await ack(client.socket, 'run:respond', { runId: finished, requestId: 'q', response: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    const foreign = await persistence.addRun('intruder', 'waiting');
    expect(await ack(client.socket, 'run:respond', { runId: foreign, requestId: 'q', response: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });
});
