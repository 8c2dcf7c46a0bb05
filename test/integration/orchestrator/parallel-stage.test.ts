import { createLogger } from '@herald/observability';
import { randomUUID } from 'node:crypto';
import { type AgentJob, agentJobId, runCancelCommandSchema } from '@herald/contracts';
import { defineAgent, MemoryEventSink, MemoryKnowledgeBase, LocalEngine, runAgent } from '@herald/agents';
import { decodeJson } from '@herald/messaging';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { AgentSteps, StepFailed } from '../../../apps/orchestrator/src/runs/agent-steps.service';
import { RunAborted, RunCancellation } from '../../../apps/orchestrator/src/runs/run-cancellation.service';
import { runStage } from '../../../apps/orchestrator/src/runs/run-supervisor.service';
import { waitFor } from '../../support/polling';
import { StepQueue } from '../../support/step-queue';

/** A sub-agent whose tool runs until the step is stopped (or fails at once when its input says so). */
const blocking = defineAgent({
  name: 'blocking',
  description: 'calls a tool that never ends by itself',
  async run(ctx, input: unknown) {
    if ((input as { fail?: boolean }).fail) throw new UnrecoverableError('UNAVAILABLE: the dataset is down');
    await ctx.tool(
      'wait',
      { forever: true },
      (signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    return {};
  },
});

/**
 * The supervisor's parallel stage (runStage over AgentSteps and RunCancellation) against real
 * NATS, Redis and BullMQ, with a BullMQ worker of the test's own that runs the step with the
 * agent SDK (runAgent, its StepContext) and aborts it on the run's cancel subject, as Herald's
 * worker does. Each step's events are kept per job.
 */
describe('a parallel stage of steps (real NATS, Redis and BullMQ)', () => {
  const logger = createLogger('test', 'silent');
  const running = new Map<string, AbortController>();
  const sinks = new Map<string, MemoryEventSink>();
  let rig: StepQueue;
  let worker: Worker;
  let cancellation: RunCancellation;
  let steps: AgentSteps;

  beforeAll(async () => {
    rig = await StepQueue.open();
    const { s, nc, redis, bullRedis, workerRedis } = rig;
    // The workers' side of a cancel: every step of the run is aborted.
    nc.subscribe(s.runCancel, {
      callback: (_err, msg) => {
        const cmd = runCancelCommandSchema.safeParse(decodeJson(msg.data));
        if (cmd.success) for (const [jobId, c] of running) if (jobId.startsWith(cmd.data.runId)) c.abort(new Error('cancelled'));
      },
    });
    await nc.flush();
    worker = new Worker(
      s.queues.agents,
      async (job: Job<AgentJob>) => {
        // As Herald's worker: a job of a run flagged cancelled (or stopped) is refused.
        if (await cancellation.isCancelled(job.data.runId)) throw new UnrecoverableError('cancelled');
        const controller = new AbortController();
        const sink = new MemoryEventSink();
        running.set(job.id!, controller);
        sinks.set(job.id!, sink);
        const { runId, conversationId, messageId, step, stream } = job.data;
        try {
          return await runAgent(blocking, {
            step: { runId, conversationId, messageId, step, stream },
            input: job.data.input,
            history: [],
            traceLevel: 'none',
            sink,
            model: new LocalEngine(),
            resources: { knowledgeBase: new MemoryKnowledgeBase([]) },
            signal: controller.signal,
          });
        } catch (err) {
          // Herald's worker fails a cancelled step for good with the reason "cancelled".
          if (controller.signal.aborted) throw new UnrecoverableError('cancelled');
          throw err;
        } finally {
          running.delete(job.id!);
        }
      },
      { connection: workerRedis, prefix: s.bullmqPrefix, concurrency: 8 },
    );
    cancellation = new RunCancellation(nc, redis, s, logger);
    cancellation.onModuleInit();
    steps = new AgentSteps(bullRedis, nc, s, logger, cancellation);
    await steps.onModuleInit();
  });

  afterAll(async () => {
    for (const c of running.values()) c.abort(new Error('test over'));
    await steps?.onApplicationShutdown();
    cancellation?.onApplicationShutdown();
    await worker?.close();
    await rig?.close();
  });

  /** Runs a stage of two `blocking` steps (steps 1 and 2) of a new run, as the supervisor does. */
  function stage(inputs: [Record<string, unknown>, Record<string, unknown>]) {
    const runId = randomUUID();
    const signal = cancellation.register(runId);
    const base = { runId, userId: 'u1', conversationId: randomUUID(), messageId: randomUUID(), history: [], traceLevel: 'none' as const };
    // As the supervisor stops a run's jobs: flagged (a job not started yet is refused), and the workers told.
    const stop = () => void cancellation.cancel({ runId, userId: 'u1', reason: 'stopped by the supervisor' });
    let n = 1;
    const result = runStage(['blocking', 'blocking'], [0.15, 0.5], signal, (agent, [from, to], stageSignal) => {
      const step = n++;
      const job: AgentJob = { ...base, agent, step, input: inputs[step - 1], stream: false, progress: { from, to } };
      return steps.run(job, { signal: stageSignal, timeoutMs: 30_000, stop });
    });
    result.catch(() => undefined).finally(() => cancellation.unregister(runId));
    return { runId, jobIds: [agentJobId(runId, 1), agentJobId(runId, 2)], result };
  }

  const bothRunning = (jobIds: string[]) =>
    waitFor(() => jobIds.every((id) => sinks.get(id)?.ofType('tool_executing').length), 'both steps in their tool');

  it('queues both steps before either ends; a cancel stops both and closes both open tool calls with ok:false', async () => {
    const { runId, jobIds, result } = stage([{}, {}]);
    await bothRunning(jobIds);
    // Both jobs were taken by the worker and neither has ended: they run at once.
    const jobs = await Promise.all(jobIds.map((id) => rig.queue.getJob(id)));
    expect(jobs.map((j) => j?.finishedOn)).toEqual([undefined, undefined]);
    expect(jobs.every((j) => typeof j?.processedOn === 'number')).toBe(true);

    await cancellation.cancel({ runId, userId: 'u1', reason: 'cancelled by the user' });
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunAborted);
    expect((err as RunAborted).reason).toBe('cancelled by the user');
    for (const id of jobIds) {
      const sink = sinks.get(id)!;
      const [executing] = sink.ofType('tool_executing');
      expect(sink.ofType('tool_completed').map((e) => e.data)).toEqual([
        expect.objectContaining({ callId: executing.data.callId, ok: false, error: 'Cancelled before it finished.' }),
      ]);
      expect(sink.ofType('agent_completed')).toEqual([]);
      expect(await rig.queue.getJobState(id)).toBe('failed');
    }
    // Two steps of one agent, told apart by stepId; their call ids differ and name the run.
    const [a, b] = jobIds.map((id) => sinks.get(id)!.ofType('tool_executing')[0].data);
    expect([a.stepId, b.stepId]).toEqual(['1', '2']);
    expect(a.callId).not.toBe(b.callId);
    expect(a.callId).toContain(runId);
  });

  it('a step that fails stops its sibling (its tool call closed with ok:false) and the stage fails with that failure', async () => {
    const { jobIds, result } = stage([{}, { fail: true }]);
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailed);
    expect((err as StepFailed).reason).toBe('UNAVAILABLE: the dataset is down');
    // The sibling had settled before the stage failed: nothing of it can follow the run's end.
    const sibling = sinks.get(jobIds[0]);
    if (sibling?.ofType('tool_executing').length) {
      expect(sibling.ofType('tool_completed').map((e) => e.data.ok)).toEqual([false]);
    }
    // The sibling ends (stopped mid-tool, or refused if it had not started yet), never left running.
    await rig.untilJobState(jobIds[0], 'failed');
    expect((await rig.queue.getJob(jobIds[0]))?.failedReason).toBe('cancelled');
    expect(running.has(jobIds[0])).toBe(false);
  });
});
