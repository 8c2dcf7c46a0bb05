import { randomBytes } from 'node:crypto';
import { subjects as subjectsOf, type Subjects } from '@herald/contracts';
import { createRedis, decodeJson, encodeJson, ensureStreams, type Redis } from '@herald/messaging';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { ConversationLanes } from '../../../apps/orchestrator/src/runs/conversation-lanes.service';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** ConversationLanes on real Redis and a real RUNS stream, in a namespace of its own. */
describe('ConversationLanes (real Redis and NATS)', () => {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const s: Subjects = subjectsOf(namespace);
  let nc: NatsConnection;
  let js: JetStreamClient;
  let redis: Redis;
  let lanes: ConversationLanes;
  /** The Redis commands sent, one per round trip (every command goes through sendCommand). */
  const sent: string[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    await ensureStreams(await nc.jetstreamManager(), s, { eventRetentionHours: 1 });
    js = nc.jetstream();
    redis = createRedis(REDIS_URL);
    // Commands fail fast while it connects (no offline queue), as in the services.
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name.toUpperCase());
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof redis.sendCommand;
    lanes = new ConversationLanes(redis, nc, s);
    lanes.onModuleInit();
  });

  afterAll(async () => {
    lanes?.onApplicationShutdown();
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for (const stream of Object.values(s.streams)) await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
    if (redis) {
      const keys = await redis.keys(`${namespace}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  /** Admits a run request as the gateway does: its RUNS stream sequence is its order. */
  async function admit(conversationId: string): Promise<{ runId: string; order: number }> {
    const runId = `run-${randomBytes(4).toString('hex')}`;
    const ack = await js.publish(s.runRequestOf(conversationId), encodeJson({ runId, conversationId }));
    return { runId, order: ack.seq };
  }

  const conversation = () => `c${randomBytes(4).toString('hex')}`;
  const active = (conversationId: string) => redis.get(`${namespace}:conv:${conversationId}:active`);

  it('starts the first run, queues the second with its position, and counts one round trip for each', async () => {
    const c = conversation();
    const a = await admit(c);
    const b = await admit(c);
    const d = await admit(c);

    sent.length = 0;
    await expect(lanes.joinAndTryStart(c, a.runId, a.order)).resolves.toBe('started');
    expect(sent).toEqual(['EVAL']);
    expect(await active(c)).toBe(a.runId);

    await expect(lanes.joinAndTryStart(c, b.runId, b.order)).resolves.toBe('waiting');
    await expect(lanes.joinAndTryStart(c, d.runId, d.order)).resolves.toBe('waiting');
    expect(await lanes.position(c, b.runId)).toBe(1);
    expect(await lanes.position(c, d.runId)).toBe(2);
    expect(await lanes.tryStart(c, b.runId)).toBe(false);

    // A priority run (an interrupt) goes before everything already waiting.
    const e = await admit(c);
    await expect(lanes.joinAndTryStart(c, e.runId, e.order, true)).resolves.toBe('waiting');
    expect(await lanes.position(c, e.runId)).toBe(1);
    expect(await lanes.position(c, b.runId)).toBe(2);

    sent.length = 0;
    await lanes.leave(c, a.runId);
    expect(sent).toEqual(['EVAL']);
    expect(await active(c)).toBeNull();
    expect(await lanes.tryStart(c, e.runId)).toBe(true);
    for (const r of [e, b, d]) await lanes.leave(c, r.runId);
  });

  it('refuses a run flagged cancelled without joining its lane', async () => {
    const c = conversation();
    const a = await admit(c);
    const b = await admit(c);
    await redis.set(s.keys.runCancelled(a.runId), 'cancelled by the user', 'EX', 60);

    await expect(lanes.joinAndTryStart(c, a.runId, a.order)).resolves.toBe('cancelled');
    expect(await redis.zscore(`${namespace}:conv:${c}:queue`, a.runId)).toBeNull();
    expect(await active(c)).toBeNull();

    // It leaves as every run does, and then does not hold back the next one.
    await lanes.leave(c, a.runId);
    await expect(lanes.joinAndTryStart(c, b.runId, b.order)).resolves.toBe('started');
    await lanes.leave(c, b.runId);
  });

  it('makes a run wait for an earlier request of its conversation that has not joined yet', async () => {
    const c = conversation();
    const a = await admit(c);
    const b = await admit(c);

    await expect(lanes.joinAndTryStart(c, b.runId, b.order)).resolves.toBe('waiting');
    expect(await active(c)).toBeNull();
    await expect(lanes.joinAndTryStart(c, a.runId, a.order)).resolves.toBe('started');
    expect(await lanes.position(c, b.runId)).toBe(1);
    await lanes.leave(c, a.runId);
    expect(await lanes.tryStart(c, b.runId)).toBe(true);
    await lanes.leave(c, b.runId);
  });

  it('leaving releases the conversation and wakes the next run; a waiting run leaving releases nothing', async () => {
    const c = conversation();
    const a = await admit(c);
    const b = await admit(c);
    const d = await admit(c);
    await expect(lanes.joinAndTryStart(c, a.runId, a.order)).resolves.toBe('started');
    await expect(lanes.joinAndTryStart(c, b.runId, b.order)).resolves.toBe('waiting');
    await expect(lanes.joinAndTryStart(c, d.runId, d.order)).resolves.toBe('waiting');

    const released: string[] = [];
    const sub = nc.subscribe(s.conversationReleased, {
      callback: (_err, msg) => released.push(decodeJson<{ conversationId: string }>(msg.data).conversationId),
    });
    await nc.flush();

    // b was only waiting: a keeps the conversation, nobody is told it is free.
    await lanes.leave(c, b.runId);
    expect(await active(c)).toBe(a.runId);
    expect(await redis.zscore(`${namespace}:conv:${c}:queue`, b.runId)).toBeNull();
    // b's request is still in the RUNS stream (not acknowledged) yet, having left, does not hold d back.
    expect(await lanes.position(c, d.runId)).toBe(1);

    const controller = new AbortController();
    const waited = lanes.waitTurn(c, d.runId, controller.signal);
    const startedAt = Date.now();
    await lanes.leave(c, a.runId);
    await waited;
    // Woken by the release notice, well before the poll would have tried again.
    expect(Date.now() - startedAt).toBeLessThan(400);
    expect(await active(c)).toBe(d.runId);
    await nc.flush();
    expect(released).toEqual([c]);

    await lanes.leave(c, d.runId);
    expect(await active(c)).toBeNull();
    await nc.flush();
    sub.unsubscribe();
    expect(released).toEqual([c, c]);
  });
});
