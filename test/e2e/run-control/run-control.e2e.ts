import type { AgentEvent } from '@herald/contracts';
import { Cluster } from '../../support/cluster';
import { EventCollector, isTerminal } from '../../support/event-collector';
import { runViolations } from '../../support/invariants';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/polling';

const LONG_QUESTION = 'Explain in detail how JetStream stores events and how resume works after a reconnect';

describe('run control with two orchestrators and two gateways', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, orchestrators: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '25' } });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  async function storedMessages(userId: string, conversationId: string): Promise<Array<{ role: string; runId: string }>> {
    const res = await cluster.http(`/v1/conversations/${conversationId}/messages`, { userId });
    expect(res.status).toBe(200);
    return (await res.json()).messages;
  }

  async function status(userId: string, runId: string): Promise<string> {
    return (await (await cluster.http(`/v1/runs/${runId}`, { userId })).json()).status;
  }

  /** Nothing of the run arrives after its terminal event (given time to show up). */
  async function expectNothingAfterTerminal(seen: EventCollector, runId: string, events: AgentEvent[]) {
    await sleep(750);
    expect(seen.of(runId)).toEqual(events);
    expect(events.filter(isTerminal)).toHaveLength(1);
    expect(isTerminal(events.at(-1)!)).toBe(true);
  }

  it('cancels a running run mid-stream from the other gateway: one run_cancelled, nothing after it, nothing stored', async () => {
    const a = await cluster.client('ann', 0);
    const b = await cluster.client('ann', 1);
    const seen = new EventCollector(a);
    const ack = await a.send(LONG_QUESTION, { stream: true });
    await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta');
    await expect(b.cancel(ack.runId)).resolves.toMatchObject({ ok: true });
    const events = await seen.until(ack.runId, 15_000);
    expect(events.at(-1)).toMatchObject({ type: 'run_cancelled', progress: 1 });
    expect(runViolations(events)).toEqual([]);
    expect(events.some((e) => e.type === 'message')).toBe(false);
    await expectNothingAfterTerminal(seen, ack.runId, events);
    await expect(a.cancel(ack.runId)).resolves.toMatchObject({ ok: true, alreadyFinished: true });
    expect(await storedMessages('ann', ack.conversationId)).toEqual([]);
    expect(await status('ann', ack.runId)).toBe('cancelled');
  });

  it('cancels a run in the middle of a tool call', async () => {
    const a = await cluster.client('bea', 1);
    const seen = new EventCollector(a);
    const ack = await a.send(LONG_QUESTION);
    await seen.untilSeen(ack.runId, (e) => e.type === 'tool_executing');
    await a.cancel(ack.runId);
    const events = await seen.until(ack.runId, 15_000);
    expect(events.at(-1)!.type).toBe('run_cancelled');
    expect(runViolations(events)).toEqual([]);
    expect(events.some((e) => e.type === 'message')).toBe(false);
    await expectNothingAfterTerminal(seen, ack.runId, events);
    expect(await storedMessages('bea', ack.conversationId)).toEqual([]);
  });

  it('does not lose a cancel sent right after the chat:send ack', async () => {
    const a = await cluster.client('cid', 0);
    const b = await cluster.client('cid', 1);
    const seen = new EventCollector(a);
    const acks = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? b : a).send(`${LONG_QUESTION} (${i})`, { stream: true })));
    await Promise.all(acks.map((ack, i) => (i % 2 ? a : b).cancel(ack.runId) as Promise<unknown>));
    for (const ack of acks) {
      const events = await seen.until(ack.runId, 15_000);
      expect(events.at(-1)!.type).toBe('run_cancelled');
      expect(events.some((e) => e.type === 'message')).toBe(false);
      expect(runViolations(events)).toEqual([]);
      await expectNothingAfterTerminal(seen, ack.runId, events);
      expect(await storedMessages('cid', ack.conversationId)).toEqual([]);
    }
  });

  it('onBusy enqueue: the second run is queued with its position and starts after the first ends; a queued run can be cancelled', async () => {
    const a = await cluster.client('dot', 0);
    const b = await cluster.client('dot', 1);
    const seen = new EventCollector(a);
    const first = await a.send(LONG_QUESTION, { stream: true });
    await seen.untilSeen(first.runId, (e) => e.type === 'orchestration_started');
    const second = await b.send('And how does resume work?', { conversationId: first.conversationId });
    const third = await a.send('And what about cancellations?', { conversationId: first.conversationId, onBusy: 'enqueue' });
    expect(await seen.untilSeen(second.runId, (e) => e.type === 'run_queued')).toMatchObject({ data: { position: 1 }, progress: 0 });
    expect(await seen.untilSeen(third.runId, (e) => e.type === 'run_queued')).toMatchObject({ data: { position: 2 } });
    await b.cancel(third.runId);
    const thirdEvents = await seen.until(third.runId, 15_000);
    expect(thirdEvents.map((e) => e.type)).toEqual(['run_queued', 'run_cancelled']);

    const firstEvents = await seen.until(first.runId, 30_000);
    const secondEvents = await seen.until(second.runId, 30_000);
    expect(firstEvents.at(-1)!.type).toBe('orchestration_completed');
    expect(secondEvents.at(-1)!.type).toBe('orchestration_completed');
    expect(runViolations(firstEvents, { stream: true })).toEqual([]);
    expect(runViolations(secondEvents)).toEqual([]);
    const started = secondEvents.find((e) => e.type === 'orchestration_started')!;
    expect(BigInt(started.id)).toBeGreaterThan(BigInt(firstEvents.at(-1)!.id));
    await waitFor(
      async () => (await storedMessages('dot', first.conversationId)).length >= 4,
      () => 'four messages stored',
      10_000,
    );
    // Messages are dated when they happened: the second question may sit before the first answer.
    const stored = await storedMessages('dot', first.conversationId);
    expect(stored).toHaveLength(4);
    expect(stored.filter((m) => m.role === 'user').map((m) => m.runId)).toEqual([first.runId, second.runId]);
    expect(stored.filter((m) => m.role === 'assistant').map((m) => m.runId)).toEqual([first.runId, second.runId]);
    expect(stored.some((m) => m.runId === third.runId)).toBe(false);
  });

  it('onBusy reject: RUN_IN_PROGRESS while a run is active, on either gateway', async () => {
    const a = await cluster.client('eve', 0);
    const b = await cluster.client('eve', 1);
    const seen = new EventCollector(a);
    const first = await a.send(LONG_QUESTION);
    await seen.untilSeen(first.runId, (e) => e.type === 'orchestration_started');
    await expect(b.send('Me too', { conversationId: first.conversationId, onBusy: 'reject' })).rejects.toMatchObject({
      code: 'RUN_IN_PROGRESS',
    });
    const events = await seen.until(first.runId, 30_000);
    expect(events.at(-1)!.type).toBe('orchestration_completed');
    expect(seen.events.every((e) => e.runId === first.runId)).toBe(true);
  });

  it('onBusy interrupt: the active run is cancelled, then the new one runs', async () => {
    const a = await cluster.client('fay', 0);
    const b = await cluster.client('fay', 1);
    const seen = new EventCollector(a);
    const first = await a.send(LONG_QUESTION, { stream: true });
    await seen.untilSeen(first.runId, (e) => e.type === 'message_delta' || e.type === 'tool_executing');
    const second = await b.send('Stop, answer this instead: what is a run?', { conversationId: first.conversationId, onBusy: 'interrupt' });
    const firstEvents = await seen.until(first.runId, 15_000);
    const secondEvents = await seen.until(second.runId, 30_000);
    expect(firstEvents.at(-1)!.type).toBe('run_cancelled');
    expect(firstEvents.some((e) => e.type === 'message')).toBe(false);
    expect(secondEvents.at(-1)!.type).toBe('orchestration_completed');
    expect(runViolations(firstEvents)).toEqual([]);
    expect(runViolations(secondEvents)).toEqual([]);
    const started = secondEvents.find((e) => e.type === 'orchestration_started')!;
    expect(BigInt(started.id)).toBeGreaterThan(BigInt(firstEvents.at(-1)!.id));
    await expectNothingAfterTerminal(seen, first.runId, firstEvents);
    await waitFor(
      async () => (await storedMessages('fay', first.conversationId)).length >= 2,
      () => 'two messages stored',
      10_000,
    );
    const stored = await storedMessages('fay', first.conversationId);
    expect(stored.map((m) => [m.runId, m.role])).toEqual([
      [second.runId, 'user'],
      [second.runId, 'assistant'],
    ]);
  });

  // Last: it leaves two new orchestrators with a short ack wait.
  it('two messages to one conversation through two gateways start in the order they were accepted, even when the later reaches an orchestrator first', async () => {
    // A user each (the rate limit is per user), sending through both gateways.
    const users = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (i) => {
        const a = await cluster.client(`gia${i}`, 0);
        return { a, b: await cluster.client(`gia${i}`, 1), seen: new EventCollector(a) };
      }),
    );
    // The first messages go to orchestrators that stop (frozen, then killed): they come back to a
    // new one only once their ack wait lapses, while the second messages reach it at once.
    const holders = cluster.running('orchestrator');
    holders.forEach((o) => o.process.kill('SIGSTOP'));
    const firsts = await Promise.all(users.map(({ a }) => a.send(LONG_QUESTION)));
    await sleep(500);
    await Promise.all(holders.map((o) => cluster.kill(o, 'SIGKILL')));
    const fresh = { RUNS_ACK_WAIT_MS: '3000' };
    for (let i = 0; i < 2; i++) await cluster.waitReady(await cluster.startService('orchestrator', fresh));
    const seconds = await Promise.all(users.map(({ b }, i) => b.send('And in short?', { conversationId: firsts[i].conversationId })));

    for (const [i, { seen }] of users.entries()) {
      const firstEvents = await seen.until(firsts[i].runId, 60_000);
      const secondEvents = await seen.until(seconds[i].runId, 60_000);
      expect(firstEvents.at(-1)!.type).toBe('orchestration_completed');
      expect(secondEvents.at(-1)!.type).toBe('orchestration_completed');
      expect(runViolations(firstEvents)).toEqual([]);
      expect(runViolations(secondEvents)).toEqual([]);
      expect(firstEvents.some((e) => e.type === 'run_queued')).toBe(false);
      expect(secondEvents[0]).toMatchObject({ type: 'run_queued', data: { position: 1 } });
      const started = secondEvents.find((e) => e.type === 'orchestration_started')!;
      expect(BigInt(started.id)).toBeGreaterThan(BigInt(firstEvents.at(-1)!.id));
    }
  }, 180_000);
});
