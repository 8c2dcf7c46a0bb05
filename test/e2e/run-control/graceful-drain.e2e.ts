import { countLoss, recordScenario } from '../../chaos/support/scenario-results';
import { Cluster, type Service } from '../support/cluster';
import { EventCollector, isTerminal, waitFor } from '../support/event-collector';
import { runViolations } from '../support/invariants';

/** Exit 0, or Nest's way of ending after its shutdown hooks: re-raising the signal it handled. */
function stoppedCleanly(service: Service): boolean {
  return service.process.exitCode === 0 || service.process.signalCode === 'SIGTERM';
}

const LONG_QUESTION = 'Explain in detail how JetStream stores events and how resume works after a reconnect';

describe('SIGTERM drains gracefully', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '25' } });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it('an orchestrator and a worker stopped mid-run finish their work and stop cleanly; the run completes once', async () => {
    const watcher = await cluster.client('tess', 1);
    const seen = new EventCollector(watcher);
    const ack = await watcher.send(LONG_QUESTION, { stream: true });
    await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta');
    // Others take over the next runs.
    await Promise.all([cluster.startService('orchestrator'), cluster.startService('worker')].map(async (s) => cluster.waitReady(await s)));
    const [orchestrator] = cluster.running('orchestrator');
    const [worker] = cluster.running('worker');
    orchestrator.process.kill('SIGTERM');
    worker.process.kill('SIGTERM');
    const events = await seen.until(ack.runId, 40_000);
    await Promise.all([orchestrator.exited, worker.exited]);
    expect(stoppedCleanly(orchestrator)).toBe(true);
    expect(stoppedCleanly(worker)).toBe(true);
    expect(events.at(-1)!.type).toBe('orchestration_completed');
    expect(events.filter(isTerminal)).toHaveLength(1);
    expect(runViolations(events, { stream: true })).toEqual([]);

    const next = await watcher.send('Thanks!', { conversationId: ack.conversationId });
    expect((await seen.until(next.runId, 30_000)).at(-1)!.type).toBe('orchestration_completed');
  });

  it('a persistence instance stopped mid-run hands its work to the other: every event is logged, the answer stored', async () => {
    const watcher = await cluster.client('pete', 1);
    const seen = new EventCollector(watcher);
    const [leaving] = cluster.running('persistence');
    await cluster.waitReady(await cluster.startService('persistence'));
    const ack = await watcher.send(LONG_QUESTION, { stream: true });
    await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta');
    leaving.process.kill('SIGTERM');
    const events = await seen.until(ack.runId, 40_000);
    await leaving.exited;
    expect(stoppedCleanly(leaving)).toBe(true);
    expect(events.at(-1)!.type).toBe('orchestration_completed');
    await waitFor(
      async () => {
        const res = await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'pete' });
        return res.ok && (await res.json()).lastEventId === events.at(-1)!.id;
      },
      20_000,
      () => 'the run was not logged up to its terminal event',
    );
    const stored = await (await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, { userId: 'pete' })).json();
    expect(stored.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
  });

  it('a gateway stopped mid-run closes its sockets; the client reconnects elsewhere, resumes and loses nothing', async () => {
    const leaving = await cluster.startService('gateway');
    await cluster.waitReady(leaving);
    const leavingIndex = cluster.gateways.indexOf(leaving);
    const watcher = new EventCollector(await cluster.client('troy', 1));
    const tab = await cluster.client('troy', leavingIndex);
    const before = new EventCollector(tab);
    let told = false;
    tab.socket.on('disconnect', () => (told = true));
    const ack = await tab.send(LONG_QUESTION, { stream: true });
    await before.untilSeen(ack.runId, (e) => e.type === 'message_delta');
    const stoppedAt = Date.now();
    leaving.process.kill('SIGTERM');
    await waitFor(
      () => told,
      10_000,
      () => 'the socket was not closed',
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
    expect(received).toEqual(full);
    recordScenario({ scenario: 'gateway SIGTERM mid-run', ...countLoss(full, received), recoveryMs, notes: 'stop → resumed elsewhere' });
  });
});
