import type { AgentEvent } from '@herald/contracts';
import { Client } from 'pg';
import { countLoss, recordScenario } from '../../support/scenario-results';
import { Cluster } from '../../support/cluster';
import { EventCollector, isTerminal } from '../../support/event-collector';
import { runViolations } from '../../support/invariants';
import { storedEvents, storedMessages, untilRunLogged } from '../../support/stored';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/polling';

const LONG_QUESTION = 'Explain in detail how JetStream stores events and how resume works after a reconnect';

/** Short lease and ack times, so that what a crashed process held is taken over within seconds. */
const FAST_RECOVERY = {
  LOCAL_ENGINE_TOKEN_DELAY_MS: '30',
  RUNS_ACK_WAIT_MS: '3000',
  WORKER_LOCK_DURATION_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
};

/** Each scenario waits on its own deadlines (a stalled lock, a lapsed ack), beyond Jest's default. */
const SCENARIO_TIMEOUT_MS = 180_000;

describe('crash survival: SIGKILL of one process mid-run', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: FAST_RECOVERY });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  /** A client of `userId` on `gateway` that sent the long question, once `until` has been seen. */
  async function runUnderWay(userId: string, gateway: number, opts: { stream: boolean; until: (e: AgentEvent) => boolean }) {
    const watcher = await cluster.client(userId, gateway);
    const seen = new EventCollector(watcher);
    const ack = await watcher.send(LONG_QUESTION, { stream: opts.stream });
    await seen.untilSeen(ack.runId, opts.until);
    return { watcher, seen, ack };
  }

  /**
   * The run ended once: the client received exactly what the system stored for it (a fresh
   * client's replay on `otherGateway`), with one terminal event; a completed run shows and
   * stores exactly one answer, another run none. Returns what was stored.
   */
  async function expectEndedOnce(
    userId: string,
    seen: EventCollector,
    run: { runId: string; conversationId: string },
    otherGateway: number,
  ): Promise<AgentEvent[]> {
    await sleep(1000);
    const events = seen.of(run.runId);
    const stored = await storedEvents(cluster, userId, otherGateway, run.runId);
    expect(events).toEqual(stored);
    expect(stored.filter(isTerminal)).toHaveLength(1);
    const answers = stored.filter((e) => e.type === 'message');
    let messages = await storedMessages(cluster, userId, run.conversationId);
    if (stored.at(-1)!.type === 'orchestration_completed') {
      expect(answers).toHaveLength(1);
      for (let i = 0; i < 50 && messages.length < 2; i++) {
        await sleep(100);
        messages = await storedMessages(cluster, userId, run.conversationId);
      }
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(answers[0].type === 'message' && messages[1].content).toBe(answers[0].type === 'message' && answers[0].data.content);
    } else {
      expect(answers.length).toBeLessThanOrEqual(1);
      expect(messages).toEqual([]);
    }
    return stored;
  }

  /**
   * Kills the worker once `killWhen` has been seen, starts a new one, and expects the run
   * taken over from the stalled lock to end once, well-formed, with one stored answer.
   */
  async function killWorkerMidRun(
    userId: string,
    opts: { stream: boolean; killWhen: (e: AgentEvent) => boolean; scenario: string; notes: string },
  ) {
    const gateway = opts.stream ? 0 : 1;
    const { seen, ack } = await runUnderWay(userId, gateway, { stream: opts.stream, until: opts.killWhen });
    const [worker] = cluster.running('worker');
    const killedAt = Date.now();
    await cluster.kill(worker, 'SIGKILL');
    await cluster.startService('worker');
    const events = await seen.until(ack.runId, 60_000);
    const recoveryMs = Date.now() - killedAt;
    expect(events.at(-1)!.type).toBe('orchestration_completed');
    expect(runViolations(events, { stream: opts.stream })).toEqual([]);
    const stored = await expectEndedOnce(userId, seen, ack, 1 - gateway);
    recordScenario({ scenario: opts.scenario, ...countLoss(stored, seen.of(ack.runId)), recoveryMs, notes: opts.notes });
  }

  it(
    'a worker killed mid-job: the job is taken over from its stalled lock, the run ends once with one answer',
    async () => {
      await killWorkerMidRun('wes', {
        stream: false,
        killWhen: (e) => e.type === 'agent_started' && e.data.agent === 'reporting',
        scenario: 'worker SIGKILL mid-job',
        notes: 'kill → terminal event',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a worker killed mid-stream: the retried step carries on after the stored deltas; they add up to the one answer',
    async () => {
      await killWorkerMidRun('wendy', {
        stream: true,
        killWhen: (e) => e.type === 'message_delta',
        scenario: 'worker SIGKILL mid-stream',
        notes: 'kill → terminal event; deltas add up to the message',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'an orchestrator killed mid-run: another instance takes the run over from JetStream; exactly one terminal event',
    async () => {
      const { watcher, seen, ack } = await runUnderWay('ora', 1, { stream: true, until: (e) => e.type === 'message_delta' });
      const [holder] = cluster.running('orchestrator');
      const standby = await cluster.startService('orchestrator');
      await cluster.waitReady(standby);
      const killedAt = Date.now();
      await cluster.kill(holder, 'SIGKILL');
      const events = await seen.until(ack.runId, 60_000);
      const recoveryMs = Date.now() - killedAt;
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(runViolations(events, { stream: true })).toEqual([]);
      const stored = await expectEndedOnce('ora', seen, ack, 0);

      // The survivor serves the next message too.
      const next = await watcher.send('Thanks!', { conversationId: ack.conversationId });
      expect((await seen.until(next.runId, 30_000)).at(-1)!.type).toBe('orchestration_completed');
      recordScenario({
        scenario: 'orchestrator SIGKILL mid-run',
        ...countLoss(stored, seen.of(ack.runId)),
        recoveryMs,
        notes: 'kill → terminal event',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a gateway killed mid-run: its client resumes on the other gateway and loses nothing',
    async () => {
      const replacement = await cluster.startService('gateway');
      await cluster.waitReady(replacement);
      const victimIndex = cluster.gateways.indexOf(replacement);
      const survivorIndex = cluster.gateways.findIndex(
        (g, i) => i !== victimIndex && g.process.exitCode === null && g.process.signalCode === null,
      );
      const watcher = new EventCollector(await cluster.client('gus', survivorIndex));
      const tab = await cluster.client('gus', victimIndex);
      const before = new EventCollector(tab);
      const ack = await tab.send(LONG_QUESTION, { stream: true });
      await before.untilSeen(ack.runId, (e) => e.type === 'message_delta');
      const killedAt = Date.now();
      await cluster.kill(replacement, 'SIGKILL');
      tab.close();
      const cursor = before.events.at(-1)!.id;

      // A new client that starts from the last id it had: its first connection resumes after
      // it and holds live events meanwhile (resuming by hand after connecting would let a live
      // event move the cursor past ones the replay still has to deliver).
      const back = await cluster.client('gus', survivorIndex, { lastEventId: cursor });
      const after = new EventCollector(back);
      await new Promise((caughtUp) => back.onCaughtUp(caughtUp));
      const recoveryMs = Date.now() - killedAt;
      const live = await watcher.until(ack.runId, 30_000);
      await after.until(ack.runId, 30_000);
      const received = [...before.events, ...after.events];
      const stored = await storedEvents(cluster, 'gus', survivorIndex, ack.runId);
      expect(received).toEqual(stored);
      expect(live).toEqual(stored);
      expect(stored.filter(isTerminal)).toHaveLength(1);
      expect(runViolations(received, { stream: true })).toEqual([]);
      recordScenario({
        scenario: 'gateway SIGKILL mid-run',
        ...countLoss(stored, received),
        recoveryMs,
        notes: 'kill → resumed on the other gateway',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a persistence instance killed mid-run: a new one takes over the event log; every event is logged and the messages stored once',
    async () => {
      const { seen, ack } = await runUnderWay('pia', 0, { stream: true, until: (e) => e.type === 'message_delta' });
      const [victim] = cluster.running('persistence');
      const killedAt = Date.now();
      await cluster.kill(victim, 'SIGKILL');
      await cluster.waitReady(await cluster.startService('persistence'));
      const events = await seen.until(ack.runId, 60_000);
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(runViolations(events, { stream: true })).toEqual([]);
      await untilRunLogged(cluster, 'pia', ack.runId, events.at(-1)!.id);
      const stored = await expectEndedOnce('pia', seen, ack, 1);

      // The Postgres event log itself (not only the stream) ends up with every event, once: those
      // the killed instance had taken but not written come back once its ack wait lapses.
      const db = new Client({ connectionString: cluster.databaseUrl });
      await db.connect();
      try {
        const logged = async () =>
          (await db.query<{ id: string }>('SELECT id::text AS id FROM events WHERE run_id = $1 ORDER BY events.id', [ack.runId])).rows.map(
            (r) => r.id,
          );
        await waitFor(
          async () => (await logged()).length >= stored.length,
          () => 'the event log did not get every event of the run',
          60_000,
        );
        expect(await logged()).toEqual(stored.map((e) => e.id));
        const messages = await db.query<{ role: string }>('SELECT role FROM messages WHERE run_id = $1 ORDER BY role DESC', [ack.runId]);
        expect(messages.rows.map((r) => r.role)).toEqual(['user', 'assistant']);
      } finally {
        await db.end();
      }
      const recoveryMs = Date.now() - killedAt;
      recordScenario({
        scenario: 'persistence SIGKILL mid-run',
        ...countLoss(stored, seen.of(ack.runId)),
        recoveryMs,
        notes: 'kill → every event in the Postgres log (the killed instance’s unacked ones after the ack wait)',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
