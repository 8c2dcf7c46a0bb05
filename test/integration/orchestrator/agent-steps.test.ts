import { randomBytes, randomUUID } from 'node:crypto';
import { type AgentJob, agentJobId, type StepSettledNotice, subjects } from '@herald/contracts';
import { createRedis, encodeJson, type Redis } from '@herald/messaging';
import { createLogger } from '@herald/observability';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { connect, type NatsConnection } from 'nats';
import { AgentSteps, StepFailed, StepTimeout } from '../../../apps/orchestrator/src/runs/agent-steps';
import { RunCancellation } from '../../../apps/orchestrator/src/runs/run-cancellation';
import { FIRST_CHECK_MS, SETTLED_CHECK_MS } from '../../../apps/orchestrator/src/runs/step-settlements';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

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

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * AgentSteps against real Redis and NATS, with a BullMQ worker of the test's own that never
 * publishes a step-settled notice: whatever settles here without a notice was found by
 * reading the job's state.
 */
describe('AgentSteps: learning that a step job settled (real Redis and NATS)', () => {
  const s = subjects(`t${randomBytes(5).toString('hex')}`);
  const logger = createLogger('test', 'silent');
  const held = new Map<string, () => void>();
  let nc: NatsConnection;
  let redis: Redis;
  let bullRedis: Redis;
  let workerRedis: Redis;
  let queue: Queue;
  let worker: Worker;
  let steps: AgentSteps;
  const opts = (over: Partial<{ timeoutMs: number; stop: () => void; signal: AbortSignal }> = {}) => ({
    signal: new AbortController().signal,
    timeoutMs: 20_000,
    stop: () => undefined,
    ...over,
  });

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    redis = createRedis(REDIS_URL);
    bullRedis = createRedis(REDIS_URL, undefined, { forBullmq: true });
    workerRedis = createRedis(REDIS_URL, undefined, { forBullmq: true });
    queue = new Queue(s.queues.agents, { connection: bullRedis, prefix: s.bullmqPrefix });
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
    await queue?.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${s.namespace}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis?.disconnect();
    bullRedis?.disconnect();
    workerRedis?.disconnect();
    await nc?.close();
  });

  async function waitHeld(jobId: string) {
    while (!held.has(jobId)) await sleep(10);
  }

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
    await queue.add(job.agent, job, { jobId });
    while ((await queue.getJobState(jobId)) !== 'completed') await sleep(10);

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
    await queue.add(job.agent, job, { jobId, delay: 60_000 });
    let settled = false;
    const result = steps.run(job, opts()).finally(() => (settled = true));
    await sleep(100);
    nc.publish(s.stepSettled, encodeJson({ jobId: 'someone-else', state: 'failed', reason: 'not yours' } satisfies StepSettledNotice));
    nc.publish(s.stepSettled, encodeJson({ jobId, state: 'done' }));
    nc.publish(s.stepSettled, new TextEncoder().encode('not json'));
    await sleep(200);
    expect(settled).toBe(false);

    const sentAt = Date.now();
    const notice: StepSettledNotice = { jobId, state: 'completed', result: { output: { from: 'the notice' } } };
    nc.publish(s.stepSettled, encodeJson(notice));
    await expect(result).resolves.toEqual({ output: { from: 'the notice' } });
    expect(Date.now() - sentAt).toBeLessThan(SETTLED_CHECK_MS / 2);

    const failing = step('complete');
    const failingId = agentJobId(failing.runId, failing.step);
    await queue.add(failing.agent, failing, { jobId: failingId, delay: 60_000 });
    const failed = steps.run(failing, opts()).catch((e: unknown) => e);
    await sleep(100);
    nc.publish(s.stepSettled, encodeJson({ jobId: failingId, state: 'failed', reason: 'UNAVAILABLE: gone' } satisfies StepSettledNotice));
    const err = await failed;
    expect(err).toBeInstanceOf(StepFailed);
    expect((err as StepFailed).reason).toBe('UNAVAILABLE: gone');
  });

  it('fails a step whose job was removed before it settled', async () => {
    const job = step('complete');
    const jobId = agentJobId(job.runId, job.step);
    await queue.add(job.agent, job, { jobId, delay: 60_000 });
    const failed = steps.run(job, opts()).catch((e: unknown) => e);
    await sleep(100);
    await queue.remove(jobId);
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
    expect(await queue.getJobState(jobId)).toBe('completed');
    // Settled well before SETTLE_AFTER_STOP_MS (5 s) ran out.
    expect(Date.now() - started).toBeLessThan(300 + 2 * SETTLED_CHECK_MS + 500);
  });
});
