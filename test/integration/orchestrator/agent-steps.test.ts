import { createLogger } from '@herald/observability';
import { randomUUID } from 'node:crypto';
import { type AgentJob, agentJobId, type StepSettledNotice } from '@herald/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeJson } from '@herald/messaging';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { AgentSteps, StepFailed, StepTimeout } from '../../../apps/orchestrator/src/runs/agent-steps.service';
import { RunCancellation } from '../../../apps/orchestrator/src/runs/run-cancellation.service';
import { FIRST_CHECK_MS, SETTLED_CHECK_MS } from '../../../apps/orchestrator/src/runs/step-settlements';
import { waitFor } from '../../support/polling';
import { StepQueue } from '../../support/step-queue';

type Outcome = 'complete' | 'fail' | 'hold';

function step(outcome: Outcome): AgentJob {
  return {
    runId: randomUUID(),
    userId: 'u1',
    conversationId: randomUUID(),
    messageId: randomUUID(),
    agent: 'triage',
    step: 0,
    input: { outcome },
    history: [],
    traceLevel: 'none',
    stream: false,
    progress: { from: 0, to: 1 },
  };
}

/**
 * AgentSteps against real Redis and NATS, with a BullMQ worker of the test's own that never
 * publishes a step-settled notice: whatever settles here without a notice was found by
 * reading the job's state.
 */
describe('AgentSteps: learning that a step job settled (real Redis and NATS)', () => {
  const logger = createLogger('test', 'silent');
  const held = new Map<string, () => void>();
  let rig: StepQueue;
  let worker: Worker;
  let steps: AgentSteps;
  const opts = (over: Partial<{ timeoutMs: number; stop: () => void; signal: AbortSignal }> = {}) => ({
    signal: new AbortController().signal,
    timeoutMs: 20_000,
    stop: () => undefined,
    ...over,
  });

  beforeAll(async () => {
    rig = await StepQueue.open();
    const { s, nc, redis, bullRedis, workerRedis } = rig;
    worker = new Worker(
      s.queues.agents,
      async (job: Job<AgentJob>) => {
        const outcome = job.data.input.outcome as Outcome;
        if (outcome === 'fail') throw new UnrecoverableError('boom');
        if (outcome === 'hold') await new Promise<void>((resolve) => held.set(job.id!, resolve));
        return { output: { answeredBy: 'test worker', jobId: job.id } };
      },
      { connection: workerRedis, prefix: s.bullmqPrefix, concurrency: 8 },
    );
    steps = new AgentSteps(bullRedis, nc, s, logger, new RunCancellation(nc, redis, s, logger));
    await steps.onModuleInit();
  });

  afterAll(async () => {
    for (const release of held.values()) release();
    await steps?.onApplicationShutdown();
    await worker?.close();
    await rig?.close();
  });

  const waitHeld = (jobId: string) => waitFor(() => held.has(jobId), `job ${jobId} taken by the worker`);

  it('resolves with the result when the notice never comes: the periodic state check finds it', async () => {
    const job = step('hold');
    const jobId = agentJobId(job.runId, job.step);
    const started = Date.now();
    const result = steps.run(job, opts());
    await waitHeld(jobId);
    await sleep(300); // the check right after queueing has seen the job still running
    held.get(jobId)!();
    await expect(result).resolves.toEqual({ output: { answeredBy: 'test worker', jobId } });
    expect(Date.now() - started).toBeLessThan(300 + 2 * SETTLED_CHECK_MS + 500);
  });

  it('resolves at once for a job that had completed before the step ran (a re-delivered run)', async () => {
    const job = step('complete');
    const jobId = agentJobId(job.runId, job.step);
    await rig.queue.add(job.agent, job, { jobId });
    await rig.untilJobState(jobId, 'completed');

    const started = Date.now();
    await expect(steps.run(job, opts())).resolves.toEqual({ output: { answeredBy: 'test worker', jobId } });
    // Found by the first read of its state, FIRST_CHECK_MS after it was queued, not a periodic one.
    expect(Date.now() - started).toBeLessThan(FIRST_CHECK_MS + SETTLED_CHECK_MS / 2);
  });

  it('fails with the failed reason of a job failed for good, without a notice', async () => {
    const job = step('fail');
    const err = await steps.run(job, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailed);
    expect((err as StepFailed).reason).toBe('boom');
  });

  it('settles from the notice, ignoring notices of other jobs and malformed ones', async () => {
    // Queued delayed first, so the test worker does not take it: only the notice can settle it.
    const job = step('complete');
    const jobId = agentJobId(job.runId, job.step);
    await rig.queue.add(job.agent, job, { jobId, delay: 60_000 });
    let settled = false;
    const result = steps.run(job, opts()).finally(() => (settled = true));
    await sleep(100); // the step is waiting
    rig.nc.publish(
      rig.s.stepSettled,
      encodeJson({ jobId: 'someone-else', state: 'failed', reason: 'not yours' } satisfies StepSettledNotice),
    );
    rig.nc.publish(rig.s.stepSettled, encodeJson({ jobId, state: 'done' }));
    rig.nc.publish(rig.s.stepSettled, new TextEncoder().encode('not json'));
    await sleep(200); // time for a wrong notice to settle it, were it taken
    expect(settled).toBe(false);

    const sentAt = Date.now();
    const notice: StepSettledNotice = { jobId, state: 'completed', result: { output: { from: 'the notice' } } };
    rig.nc.publish(rig.s.stepSettled, encodeJson(notice));
    await expect(result).resolves.toEqual({ output: { from: 'the notice' } });
    expect(Date.now() - sentAt).toBeLessThan(SETTLED_CHECK_MS / 2);

    const failing = step('complete');
    const failingId = agentJobId(failing.runId, failing.step);
    await rig.queue.add(failing.agent, failing, { jobId: failingId, delay: 60_000 });
    const failed = steps.run(failing, opts()).catch((e: unknown) => e);
    await sleep(100); // the step is waiting
    rig.nc.publish(
      rig.s.stepSettled,
      encodeJson({ jobId: failingId, state: 'failed', reason: 'UNAVAILABLE: gone' } satisfies StepSettledNotice),
    );
    const err = await failed;
    expect(err).toBeInstanceOf(StepFailed);
    expect((err as StepFailed).reason).toBe('UNAVAILABLE: gone');
  });

  it('fails a step whose job was removed before it settled', async () => {
    const job = step('complete');
    const jobId = agentJobId(job.runId, job.step);
    await rig.queue.add(job.agent, job, { jobId, delay: 60_000 });
    const failed = steps.run(job, opts()).catch((e: unknown) => e);
    await sleep(100);
    await rig.queue.remove(jobId);
    const err = await failed;
    expect(err).toBeInstanceOf(StepFailed);
    expect((err as StepFailed).reason).toMatch(/was removed/);
  });

  it('on timeout, stops the job and waits for it to settle (seen by the state check) before failing the step', async () => {
    const job = step('hold');
    const jobId = agentJobId(job.runId, job.step);
    let stoppedAt = 0;
    const started = Date.now();
    const err = await steps
      .run(
        job,
        opts({
          timeoutMs: 300,
          stop: () => {
            stoppedAt = Date.now();
            held.get(jobId)?.();
          },
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepTimeout);
    expect(stoppedAt).toBeGreaterThan(0);
    expect(await rig.queue.getJobState(jobId)).toBe('completed');
    // Settled well before SETTLE_AFTER_STOP_MS (5 s) ran out.
    expect(Date.now() - started).toBeLessThan(300 + 2 * SETTLED_CHECK_MS + 500);
  });
});
