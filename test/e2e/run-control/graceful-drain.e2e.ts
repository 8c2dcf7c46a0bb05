import type { AgentEvent } from '@herald/contracts';
import { SseClient } from '../../support/sse-client';
import { countLoss, recordScenario } from '../../support/scenario-results';
import { Cluster, type Service } from '../../support/cluster';
import { EventCollector, isTerminal } from '../../support/event-collector';
import { runViolations } from '../../support/invariants';
import { storedEvents, untilRunLogged } from '../../support/stored';
import { waitFor } from '../../support/polling';

/** Exit 0, or Nest's way of ending after its shutdown hooks: re-raising the signal it handled. */
function stoppedCleanly(service: Service): boolean {
  return service.process.exitCode === 0 || service.process.signalCode === 'SIGTERM';
}

const LONG_QUESTION = 'Explain in detail how JetStream stores events and how resume works after a reconnect';
/** A drain may take up to the orchestrator's 25 s, beyond Jest's default. */
const SCENARIO_TIMEOUT_MS = 180_000;

describe('SIGTERM drains gracefully', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '25' } });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it(
    'an orchestrator and a worker stopped mid-run finish their work and stop cleanly; the run completes once',
    async () => {
      const watcher = await cluster.client('tess', 1);
      const seen = new EventCollector(watcher);
      const ack = await watcher.send(LONG_QUESTION, { stream: true });
      await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta');
      // Others take over the next runs.
      await Promise.all(
        [cluster.startService('orchestrator'), cluster.startService('worker')].map(async (s) => cluster.waitReady(await s)),
      );
      const [orchestrator] = cluster.running('orchestrator');
      const [worker] = cluster.running('worker');
      const stoppedAt = Date.now();
      orchestrator.process.kill('SIGTERM');
      worker.process.kill('SIGTERM');
      const events = await seen.until(ack.runId, 40_000);
      const recoveryMs = Date.now() - stoppedAt;
      await Promise.all([orchestrator.exited, worker.exited]);
      expect(stoppedCleanly(orchestrator)).toBe(true);
      expect(stoppedCleanly(worker)).toBe(true);
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(events.filter(isTerminal)).toHaveLength(1);
      expect(runViolations(events, { stream: true })).toEqual([]);

      const next = await watcher.send('Thanks!', { conversationId: ack.conversationId });
      expect((await seen.until(next.runId, 30_000)).at(-1)!.type).toBe('orchestration_completed');
      const stored = await storedEvents(cluster, 'tess', 0, ack.runId);
      expect(events).toEqual(stored);
      recordScenario({
        scenario: 'orchestrator + worker SIGTERM mid-run',
        ...countLoss(stored, events),
        recoveryMs,
        notes: 'stop → the run finished by the leaving instances',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a persistence instance stopped mid-run hands its work to the other: every event is logged, the answer stored',
    async () => {
      const watcher = await cluster.client('pete', 1);
      const seen = new EventCollector(watcher);
      const [leaving] = cluster.running('persistence');
      await cluster.waitReady(await cluster.startService('persistence'));
      const ack = await watcher.send(LONG_QUESTION, { stream: true });
      await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta');
      const stoppedAt = Date.now();
      leaving.process.kill('SIGTERM');
      const events = await seen.until(ack.runId, 40_000);
      await leaving.exited;
      expect(stoppedCleanly(leaving)).toBe(true);
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      await untilRunLogged(cluster, 'pete', ack.runId, events.at(-1)!.id, 20_000);
      const recoveryMs = Date.now() - stoppedAt;
      const messages = await (await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, { userId: 'pete' })).json();
      expect(messages.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
      const stored = await storedEvents(cluster, 'pete', 0, ack.runId);
      expect(events).toEqual(stored);
      recordScenario({
        scenario: 'persistence SIGTERM mid-run',
        ...countLoss(stored, events),
        recoveryMs,
        notes: 'stop → run logged up to its terminal event by the other instance',
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a gateway stopped mid-run closes its sockets and SSE streams; clients reconnect elsewhere, resume and lose nothing',
    async () => {
      const leaving = await cluster.startService('gateway');
      await cluster.waitReady(leaving);
      const leavingIndex = cluster.gateways.indexOf(leaving);
      const watcher = new EventCollector(await cluster.client('troy', 1));
      const tab = await cluster.client('troy', leavingIndex);
      const before = new EventCollector(tab);
      let told = false;
      tab.socket.on('disconnect', () => (told = true));
      const auth = { authorization: `Bearer ${await cluster.token('troy')}` };
      const sse = await SseClient.open(`${cluster.gatewayUrl(leavingIndex)}/v1/events`, auth);
      await waitFor(
        () => sse.comments.includes('connected'),
        () => 'the SSE stream did not open',
        5000,
      );
      const ack = await tab.send(LONG_QUESTION, { stream: true });
      await before.untilSeen(ack.runId, (e) => e.type === 'message_delta');
      const stoppedAt = Date.now();
      leaving.process.kill('SIGTERM');
      await waitFor(
        () => told && sse.ended,
        () => `not closed: ${told ? '' : 'the socket '}${sse.ended ? '' : 'the SSE stream'}`,
        10_000,
      );
      await leaving.exited;
      expect(stoppedCleanly(leaving)).toBe(true);
      tab.close();

      const back = await cluster.client('troy', 1, { lastEventId: before.events.at(-1)!.id });
      const after = new EventCollector(back);
      await new Promise((caughtUp) => back.onCaughtUp(caughtUp));
      const recoveryMs = Date.now() - stoppedAt;
      const full = await watcher.until(ack.runId, 30_000);
      await after.until(ack.runId, 30_000);
      const received = [...before.events, ...after.events];
      const stored = await storedEvents(cluster, 'troy', 1, ack.runId);
      expect(full).toEqual(stored);
      expect(received).toEqual(stored);
      recordScenario({
        scenario: 'gateway SIGTERM mid-run',
        ...countLoss(stored, received),
        recoveryMs,
        notes: 'stop → resumed elsewhere',
      });

      // The SSE client reconnects to the other gateway with the Last-Event-ID it had.
      const sseBefore = sse.events.filter((e) => e.envelope.runId === ack.runId);
      expect(sseBefore.length).toBeGreaterThan(0);
      const sseReconnectedAt = Date.now();
      const sseBack = await SseClient.open(`${cluster.gatewayUrl(1)}/v1/events`, { ...auth, 'last-event-id': sse.events.at(-1)!.id });
      try {
        await waitFor(
          () => sseBack.events.some((e) => e.id === stored.at(-1)!.id),
          () => 'the SSE stream did not catch up',
          10_000,
        );
        const sseRecoveryMs = Date.now() - sseReconnectedAt;
        const sseReceived = [...sseBefore, ...sseBack.events.filter((e) => e.envelope.runId === ack.runId)];
        expect(sseReceived.map((e) => e.envelope)).toEqual(stored);
        expect(sseReceived.map((e) => [e.id, e.type])).toEqual(stored.map((e) => [e.id, e.type]));
        recordScenario({
          scenario: 'gateway SIGTERM mid-run (SSE)',
          ...countLoss(
            stored,
            sseReceived.map((e) => e.envelope as unknown as AgentEvent),
          ),
          recoveryMs: sseRecoveryMs,
          notes: 'SSE reconnect with Last-Event-ID to the other gateway → caught up',
        });
      } finally {
        sseBack.close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});
