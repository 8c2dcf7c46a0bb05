import { type AgentEvent, subjects } from '@herald/contracts';
import { createRedis } from '@herald/messaging';
import { Queue } from 'bullmq';
import { Cluster } from '../support/cluster';
import { EventCollector } from '../support/event-collector';
import { runViolations } from '../support/invariants';

const REPORT = 'Write a report on revenue by region';

type StepData = { agent: string; stepId?: string };
const started = (events: AgentEvent[]) => events.flatMap((e) => (e.type === 'agent_started' ? [e.data as StepData] : []));
const callIds = (events: AgentEvent[]) => events.flatMap((e) => (e.type === 'tool_executing' ? [e.data.callId] : []));

/**
 * Parallel sub-agents end to end (PROTOCOL.md §3): a report gathers passages (knowledge) and
 * figures (data) as two BullMQ jobs at once, on two workers, and writes (reporting) once both
 * are done; its events, seen through two gateways, keep every invariant.
 */
describe('parallel sub-agents (4 services, 2 gateways, 2 workers)', () => {
  let cluster: Cluster;
  let queue: Queue;
  let redis: ReturnType<typeof createRedis>;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, workers: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '10' } });
    redis = createRedis(cluster.redisUrl, undefined, { forBullmq: true });
    const s = subjects(cluster.namespace);
    queue = new Queue(s.queues.agents, { connection: redis, prefix: s.bullmqPrefix });
  }, 90_000);

  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await cluster?.stop();
  }, 30_000);

  it('runs a report’s knowledge and data steps as parallel jobs; the events hold every invariant on both gateways', async () => {
    const a = await cluster.client('par-ann', 0);
    const b = await cluster.client('par-ann', 1);
    const seenA = new EventCollector(a);
    const seenB = new EventCollector(b);
    const ack = await a.send(REPORT, { stream: true });
    const events = await seenA.until(ack.runId, 60_000);
    const other = await seenB.until(ack.runId, 30_000);
    expect(runViolations(events, { stream: true })).toEqual([]);
    expect(runViolations(other, { stream: true })).toEqual([]);
    expect(other.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(events.at(-1)?.type).toBe('orchestration_completed');

    // Steps told apart by stepId, numbered in plan order: triage, then knowledge and data (one stage), then reporting.
    const steps = started(events).sort((x, y) => Number(x.stepId) - Number(y.stepId));
    expect(steps).toEqual([
      expect.objectContaining({ agent: 'triage', stepId: '0' }),
      expect.objectContaining({ agent: 'knowledge', stepId: '1' }),
      expect.objectContaining({ agent: 'data', stepId: '2' }),
      expect.objectContaining({ agent: 'reporting', stepId: '3' }),
    ]);
    // Both jobs of the stage were queued before either had finished: they were not run one after the other.
    const [knowledge, data] = await Promise.all([queue.getJob(`${ack.runId}-1`), queue.getJob(`${ack.runId}-2`)]);
    expect(knowledge?.finishedOn).toEqual(expect.any(Number));
    expect(data?.finishedOn).toEqual(expect.any(Number));
    expect(data!.timestamp).toBeLessThan(knowledge!.finishedOn!);
    expect(knowledge!.timestamp).toBeLessThan(data!.finishedOn!);

    // Reporting starts once both are done, with both their findings: passages and the table.
    const index = (type: string, stepId: string) => events.findIndex((e) => e.type === type && (e.data as StepData).stepId === stepId);
    expect(index('agent_started', '3')).toBeGreaterThan(Math.max(index('agent_completed', '1'), index('agent_completed', '2')));
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    expect(message.data.metadata.table).toMatchObject({ columns: ['region', 'value'], rowCount: 4 });
    // The stage's steps share its progress (they hold its start); reporting goes on from its end.
    const stageProgress = events.filter((e) => ['1', '2'].includes((e.data as StepData).stepId ?? '')).map((e) => e.progress);
    expect(new Set(stageProgress).size).toBe(1);
    const reportingStart = events[index('agent_started', '3')].progress;
    expect(reportingStart).toBeGreaterThan(stageProgress[0]);
  });

  it('keeps call ids unique across two runs of one conversation, and the same stepId on a step’s tool calls', async () => {
    const a = await cluster.client('par-bo', 1);
    const seen = new EventCollector(a);
    const first = await a.send(REPORT);
    const firstEvents = await seen.until(first.runId, 60_000);
    const second = await a.send(REPORT, { conversationId: first.conversationId });
    const secondEvents = await seen.until(second.runId, 60_000);
    for (const run of [firstEvents, secondEvents]) expect(runViolations(run)).toEqual([]);
    const ids = [...callIds(firstEvents), ...callIds(secondEvents)];
    expect(callIds(firstEvents).length).toBeGreaterThan(1);
    expect(callIds(secondEvents).length).toBe(callIds(firstEvents).length);
    expect(new Set(ids).size).toBe(ids.length);
    // Each call carries its step's stepId, and its id names its run.
    for (const [run, runId] of [
      [firstEvents, first.runId],
      [secondEvents, second.runId],
    ] as const) {
      for (const e of run) {
        if (e.type !== 'tool_executing') continue;
        const step = started(run).find((s) => s.stepId === e.data.stepId);
        expect(step?.agent).toBe(e.data.agent);
        expect(e.data.callId).toContain(runId);
      }
    }
  });

  it('a cancel during the report ends it with one run_cancelled, every tool call closed, nothing stored', async () => {
    const a = await cluster.client('par-cy', 0);
    const b = await cluster.client('par-cy', 1);
    const seen = new EventCollector(a);
    const ack = await a.send(REPORT, { stream: true });
    // As soon as the stage has begun.
    await seen.untilSeen(ack.runId, (e) => e.type === 'agent_started' && ['knowledge', 'data'].includes(e.data.agent), 60_000);
    await expect(b.cancel(ack.runId)).resolves.toMatchObject({ ok: true });
    const events = await seen.until(ack.runId, 30_000);
    expect(runViolations(events, { stream: true })).toEqual([]);
    // Whether it stopped the stage or came after it, it ended the run.
    expect(events.at(-1)?.type).toBe('run_cancelled');
    expect(events.some((e) => e.type === 'message')).toBe(false);
    for (const e of events) if (e.type === 'tool_completed' && e.data.ok === false) expect(e.data.error).toBeTruthy();
    const res = await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, { userId: 'par-cy' });
    expect((await res.json()).messages).toEqual([]);
  });
});
