import type { HeraldClient } from '@herald/client';
import { Cluster } from '../support/cluster';
import { EventCollector, isTerminal } from '../support/event-collector';
import { runViolations } from '../support/invariants';
import { storedEvents, storedMessages, untilRunLogged } from '../support/stored';
import { NatsServer, PostgresServer, RedisServer } from '../support/infra-servers';
import { countLoss, recordScenario } from '../support/scenario-results';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../support/polling';

const QUESTION = 'Explain how JetStream stores events and how resume works after a reconnect';
/** Each scenario waits on its own deadlines (reconnects, crash recovery), beyond Jest's default. */
const SCENARIO_TIMEOUT_MS = 180_000;

describe('chaos: NATS, Redis and Postgres killed (SIGKILL) and restarted under a running Herald', () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let postgres: PostgresServer;
  let cluster: Cluster;

  beforeAll(async () => {
    [nats, redis, postgres] = await Promise.all([NatsServer.start(), RedisServer.start(), PostgresServer.start()]);
    cluster = await Cluster.start({
      gateways: 2,
      natsUrl: nats.url,
      redisUrl: redis.url,
      databaseUrl: postgres.url(),
      env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '20' },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop().catch(() => undefined);
    await Promise.all([nats, redis, postgres].map((s) => s?.destroy()));
  }, 60_000);

  /** Sends until the system accepts (UNAVAILABLE while something is down), returning the ack. */
  async function sendWhenAccepted(client: HeraldClient, content: string, timeoutMs = 60_000, conversationId?: string) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await client.send(content, { conversationId, clientMessageId: `retry-${content.length}-${deadline}` });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (Date.now() > deadline || (code !== undefined && code !== 'UNAVAILABLE')) throw err;
        await sleep(250);
      }
    }
  }

  /** The run is logged up to its terminal event and its two messages are stored: persistence is back on the event log. */
  async function expectLogged(userId: string, run: { runId: string; conversationId: string }, terminalId: string) {
    await untilRunLogged(cluster, userId, run.runId, terminalId, 60_000);
    await waitFor(
      async () => (await storedMessages(cluster, userId, run.conversationId)).filter((m) => m.runId === run.runId).length === 2,
      () => `the messages of run ${run.runId} were not stored`,
      30_000,
    );
  }

  it(
    'NATS killed mid-run: the streams survive in the file store, every service reconnects, the client misses nothing',
    async () => {
      const client = await cluster.client('nia', 0);
      const seen = new EventCollector(client);
      const first = await client.send(QUESTION);
      await seen.until(first.runId);
      const before = await storedEvents(cluster, 'nia', 1);
      expect(before).toEqual(seen.events);

      const running = await client.send(QUESTION, { conversationId: first.conversationId, stream: true });
      await seen.untilSeen(running.runId, (e) => e.type === 'message_delta');
      const restartedAt = Date.now();
      await nats.restart('SIGKILL');
      const events = await seen.until(running.runId, 90_000);
      const recoveryMs = Date.now() - restartedAt;
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(runViolations(events, { stream: true })).toEqual([]); // no delta lost or repeated
      // Persistence's event writer is back on the stream: the run is logged to its end, its messages stored.
      await expectLogged('nia', running, events.at(-1)!.id);

      const next = await sendWhenAccepted(client, 'Are you back?', 60_000, first.conversationId);
      const nextEvents = await seen.until(next.runId, 60_000);
      expect(nextEvents.at(-1)!.type).toBe('orchestration_completed');
      await expectLogged('nia', next, nextEvents.at(-1)!.id);
      const after = await storedEvents(cluster, 'nia', 1);
      expect(after.slice(0, before.length)).toEqual(before); // the file store kept them
      expect(seen.events).toEqual(after);
      recordScenario({
        scenario: 'NATS SIGKILL + restart mid-run',
        ...countLoss(after, seen.events),
        recoveryMs,
        notes: 'kill → the run in flight completed',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'Redis killed: UNAVAILABLE while it is down, then the next message works; nothing accepted is lost',
    async () => {
      const client = await cluster.client('rex', 0);
      const seen = new EventCollector(client);
      const first = await client.send(QUESTION);
      await seen.until(first.runId);

      await redis.stop('SIGKILL');
      const downAt = Date.now();
      await expect(client.send('Anyone there?')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      const ready = await cluster.http('/health/ready');
      expect(ready.status).toBe(503);
      await redis.start();
      const next = await sendWhenAccepted(client, 'Back now?', 60_000, first.conversationId);
      const events = await seen.until(next.runId, 60_000);
      const recoveryMs = Date.now() - downAt;
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(runViolations(events)).toEqual([]);
      const stored = await storedEvents(cluster, 'rex', 1);
      expect(seen.events.map((e) => e.id)).toEqual(stored.map((e) => e.id));
      recordScenario({ scenario: 'Redis SIGKILL', ...countLoss(stored, seen.events), recoveryMs, notes: 'kill → next run completed' });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'Redis killed mid-run and restarted: the run in flight ends once, and the client misses nothing',
    async () => {
      const client = await cluster.client('roy', 0);
      const seen = new EventCollector(client);
      const ack = await client.send(QUESTION, { stream: true });
      await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta');
      const restartedAt = Date.now();
      await redis.restart('SIGKILL');
      const events = await seen.until(ack.runId, 90_000);
      const recoveryMs = Date.now() - restartedAt;
      expect(events.filter(isTerminal)).toHaveLength(1);
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(runViolations(events, { stream: true })).toEqual([]);
      await expectLogged('roy', ack, events.at(-1)!.id);
      const stored = await storedEvents(cluster, 'roy', 1);
      expect(seen.events).toEqual(stored);
      recordScenario({
        scenario: 'Redis SIGKILL + restart mid-run',
        ...countLoss(stored, seen.events),
        recoveryMs,
        notes: 'kill → the run in flight completed',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'Postgres killed mid-run: the run goes on, its events and messages are stored once it is back from crash recovery',
    async () => {
      const client = await cluster.client('pam', 0);
      const seen = new EventCollector(client);
      const ack = await client.send(QUESTION, { stream: true });
      await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta');

      await postgres.stop('SIGKILL');
      const downAt = Date.now();
      await expect(client.send('Anyone there?')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await sleep(1500);
      await postgres.start();
      const events = await seen.until(ack.runId, 60_000);
      expect(events.filter(isTerminal)).toHaveLength(1);
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(runViolations(events, { stream: true })).toEqual([]);
      await expectLogged('pam', ack, events.at(-1)!.id);
      const recoveryMs = Date.now() - downAt;
      const snapshot = await (await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'pam' })).json();
      expect(snapshot).toMatchObject({ status: 'completed', lastEventId: events.at(-1)!.id });
      const next = await sendWhenAccepted(client, 'Thanks!', 30_000, ack.conversationId);
      expect((await seen.until(next.runId, 30_000)).at(-1)!.type).toBe('orchestration_completed');
      const stored = await storedEvents(cluster, 'pam', 1);
      expect(seen.events).toEqual(stored);
      recordScenario({
        scenario: 'Postgres SIGKILL + restart mid-run',
        ...countLoss(stored, seen.events),
        recoveryMs,
        notes: 'kill → messages stored',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
