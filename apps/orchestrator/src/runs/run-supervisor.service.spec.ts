import type { AgentJob, AgentJobResult, RunRequest } from '@herald/contracts';
import type { Config } from '@herald/config';
import { type RpcClient } from '@herald/messaging';
import { createLogger } from '@herald/observability';
import { type AgentSteps, StepFailed, StepTimeout } from './agent-steps.service';
import type { ConversationLanes } from './conversation-lanes.service';
import { RunAborted, type RunCancellation } from './run-cancellation.service';
import type { RunEvents } from './run-events.service';
import { runStage, RunSupervisor } from './run-supervisor.service';
import { strictMock } from '@herald/test-support/strict-mock';

type Published = { type: string; data: unknown; progress?: number };
/** A step's outcome: a result, a failure, or what the step does with its job and signal (a step that takes a while). */
type StepOutcome = AgentJobResult | Error | ((job: AgentJob, signal: AbortSignal) => Promise<AgentJobResult>);

function setup(
  opts: {
    results?: Record<string, StepOutcome>;
    config?: Partial<Config>;
    busy?: boolean;
    cancelledBeforeStart?: boolean;
    status?: string;
    onStep?: (job: AgentJob) => void;
  } = {},
) {
  const published: Published[] = [];
  const jobs: AgentJob[] = [];
  const controller = new AbortController();
  const results: Record<string, StepOutcome> = {
    triage: { output: { intent: 'question', plan: ['knowledge', 'reporting'] } },
    knowledge: {
      output: { passages: [{ id: 'p1', title: 'T', content: 'c', score: 0.5 }] },
      usage: { promptTokens: 3, completionTokens: 0 },
    },
    reporting: { output: { content: 'answer' }, usage: { promptTokens: 10, completionTokens: 5 } },
    ...opts.results,
  };
  const stepRun = jest.fn(async (job: AgentJob, o: { signal: AbortSignal; stop: () => void; timeoutMs?: number }) => {
    jobs.push(job);
    // As AgentSteps does: an aborted step asks the workers to stop.
    o.signal.addEventListener('abort', () => o.stop(), { once: true });
    opts.onStep?.(job);
    const r = results[job.agent];
    if (r instanceof Error) throw r;
    if (typeof r === 'function') return r(job, o.signal);
    return r;
  });
  const steps = strictMock<AgentSteps>({ run: stepRun }, 'steps');
  const events = strictMock<RunEvents>(
    {
      queued: jest.fn(async (_s, position: number) => published.push({ type: 'run_queued', data: { position } })),
      started: jest.fn(async (_s, progress: number) => published.push({ type: 'orchestration_started', data: {}, progress })),
      terminal: jest.fn(async (_s, type: string, data: unknown) => published.push({ type, data, progress: 1 })),
    },
    'events',
  );
  const lanes = strictMock<ConversationLanes>(
    {
      joinAndTryStart: jest.fn(async () => (opts.cancelledBeforeStart ? 'cancelled' : opts.busy ? 'waiting' : 'started')),
      tryStart: jest.fn(async () => !opts.busy),
      position: jest.fn(async () => 2),
      waitTurn: jest.fn(async () => undefined),
      activeRun: jest.fn(async () => null),
      renew: jest.fn(async () => undefined),
      leave: jest.fn(async () => undefined),
    },
    'lanes',
  );
  const cancellation = strictMock<RunCancellation>(
    {
      register: jest.fn(() => controller.signal),
      unregister: jest.fn(),
      cancel: jest.fn(async () => undefined),
      stopWorkers: jest.fn(),
    },
    'cancellation',
  );
  const persistence = strictMock<RpcClient>(
    {
      call: jest.fn(async (op: string) =>
        op === 'run.get' ? { runId: 'r1', status: opts.status ?? 'queued' } : { messages: [{ role: 'user', content: 'earlier' }] },
      ),
    },
    'persistence',
  );
  const config = { RUN_STEP_TIMEOUT_MS: 1000, HUMAN_RESPONSE_TIMEOUT_MS: 5000, RUN_PARALLEL_STEPS: true, ...opts.config } as Config;
  const supervisor = new RunSupervisor(config, createLogger('test', 'silent'), persistence, lanes, cancellation, steps, events);
  return { supervisor, published, jobs, lanes, cancellation, persistence, controller, stepRun };
}

const request = (over: Partial<RunRequest['options']> = {}): RunRequest => ({
  runId: 'r1',
  userId: 'u1',
  conversationId: 'c1',
  messageId: 'm1',
  userMessageId: 'um1',
  content: 'What is JetStream?',
  options: { traceLevel: 'none', stream: false, onBusy: 'enqueue', ...over },
  acceptedAt: new Date().toISOString(),
});

describe('RunSupervisor', () => {
  it('routes a question through triage, knowledge and reporting, with the history, and completes once', async () => {
    const { supervisor, published, jobs, lanes, persistence } = setup();
    await supervisor.execute(request(), 7, () => undefined);
    expect(jobs.map((j) => j.agent)).toEqual(['triage', 'knowledge', 'reporting']);
    expect(jobs.map((j) => j.step)).toEqual([0, 1, 2]);
    expect(jobs[2].input).toMatchObject({ question: 'What is JetStream?', intent: 'question', passages: [{ id: 'p1' }] });
    expect(jobs[0].history).toEqual([{ role: 'user', content: 'earlier' }]);
    expect(persistence.call).toHaveBeenCalledWith(
      'conversation.history',
      { conversationId: 'c1', runId: 'r1', limit: 10 },
      { traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/) },
    );
    // The run's reads from persistence are in the run's trace, as its steps are.
    const traceOf = (traceparent: string | undefined) => traceparent?.split('-')[1];
    const calls = (persistence.call as jest.Mock).mock.calls as Array<[string, unknown, { traceparent?: string }]>;
    expect(calls.map(([op, , opts]) => [op, traceOf(opts.traceparent)])).toEqual([
      ['run.get', traceOf(jobs[0].traceparent)],
      ['conversation.history', traceOf(jobs[0].traceparent)],
    ]);
    // Progress ranges are contiguous and increasing.
    for (let i = 1; i < jobs.length; i++) expect(jobs[i].progress.from).toBeGreaterThanOrEqual(jobs[i - 1].progress.to);
    expect(published.map((p) => p.type)).toEqual(['orchestration_started', 'orchestration_completed']);
    expect(published[1].data).toMatchObject({ usage: { promptTokens: 13, completionTokens: 5, totalTokens: 18 } });
    expect(lanes.joinAndTryStart).toHaveBeenCalledWith('c1', 'r1', 7, false);
    expect(lanes.tryStart).not.toHaveBeenCalled();
    expect(lanes.leave).toHaveBeenCalledWith('c1', 'r1');
  });

  it('ignores a request delivered again for a run that already ended', async () => {
    const { supervisor, published, jobs } = setup({ status: 'completed' });
    await supervisor.execute(request(), 1, () => undefined);
    expect(jobs).toEqual([]);
    expect(published).toEqual([]);
  });

  it('skips knowledge for chitchat', async () => {
    const { supervisor, jobs } = setup({ results: { triage: { output: { intent: 'chitchat', plan: ['reporting'] } } } });
    await supervisor.execute(request(), 1, () => undefined);
    expect(jobs.map((j) => j.agent)).toEqual(['triage', 'reporting']);
    expect(jobs[1].input).toMatchObject({ intent: 'chitchat', passages: [] });
  });

  it('announces its place when the conversation is busy, then waits its turn', async () => {
    const { supervisor, published, lanes } = setup({ busy: true });
    await supervisor.execute(request(), 1, () => undefined);
    expect(published[0]).toEqual({ type: 'run_queued', data: { position: 2 } });
    expect(lanes.waitTurn).toHaveBeenCalled();
    expect(published.at(-1)!.type).toBe('orchestration_completed');
  });

  it('interrupt cancels the active run first and jumps the queue', async () => {
    const { supervisor, lanes, cancellation, published } = setup();
    (lanes.joinAndTryStart as jest.Mock).mockResolvedValue('waiting');
    (lanes.activeRun as jest.Mock).mockResolvedValue('r0');
    await supervisor.execute(request({ onBusy: 'interrupt' }), 5, () => undefined);
    expect(lanes.joinAndTryStart).toHaveBeenCalledWith('c1', 'r1', 5, true);
    expect(cancellation.cancel).toHaveBeenCalledWith(expect.objectContaining({ runId: 'r0' }));
    // Joined with priority, then the active run is cancelled, then it tries to start.
    const join = (lanes.joinAndTryStart as jest.Mock).mock.invocationCallOrder[0];
    const cancel = (cancellation.cancel as jest.Mock).mock.invocationCallOrder[0];
    const start = (lanes.tryStart as jest.Mock).mock.invocationCallOrder[0];
    expect(join).toBeLessThan(cancel);
    expect(cancel).toBeLessThan(start);
    expect(published.map((p) => p.type)).toEqual(['orchestration_started', 'orchestration_completed']);
  });

  it('interrupt cancels nothing when it started at once (nothing was active)', async () => {
    const { supervisor, lanes, cancellation } = setup();
    await supervisor.execute(request({ onBusy: 'interrupt' }), 5, () => undefined);
    expect(lanes.joinAndTryStart).toHaveBeenCalledWith('c1', 'r1', 5, true);
    expect(cancellation.cancel).not.toHaveBeenCalled();
    expect(lanes.tryStart).not.toHaveBeenCalled();
  });

  it('interrupt that still cannot start after cancelling the active run announces its place and waits', async () => {
    const { supervisor, lanes, cancellation, published } = setup({ busy: true });
    (lanes.activeRun as jest.Mock).mockResolvedValue('r0');
    await supervisor.execute(request({ onBusy: 'interrupt' }), 5, () => undefined);
    expect(cancellation.cancel).toHaveBeenCalledWith(expect.objectContaining({ runId: 'r0' }));
    expect(published[0]).toEqual({ type: 'run_queued', data: { position: 2 } });
    expect(lanes.waitTurn).toHaveBeenCalled();
  });

  it('ends a run cancelled before it started with run_cancelled only', async () => {
    const { supervisor, published, jobs, lanes } = setup({ cancelledBeforeStart: true });
    await supervisor.execute(request(), 1, () => undefined);
    expect(jobs).toEqual([]);
    expect(published).toEqual([
      {
        type: 'run_cancelled',
        data: { reason: 'cancelled_by_user', usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 } },
        progress: 1,
      },
    ]);
    expect(lanes.waitTurn).not.toHaveBeenCalled();
    expect(lanes.leave).toHaveBeenCalledWith('c1', 'r1');
  });

  it('ends a run cancelled mid-step with run_cancelled and runs no further step', async () => {
    const ctx = setup({
      onStep: (job) => {
        if (job.agent === 'knowledge') ctx.controller.abort(new RunAborted('cancelled by the user'));
      },
      results: { knowledge: new RunAborted('cancelled by the user') },
    });
    await ctx.supervisor.execute(request(), 1, () => undefined);
    expect(ctx.jobs.map((j) => j.agent)).toEqual(['triage', 'knowledge']);
    expect(ctx.published.map((p) => p.type)).toEqual(['orchestration_started', 'run_cancelled']);
  });

  it('puts the usage of the steps that finished on a cancelled or failed run’s terminal event', async () => {
    const triage = {
      output: { intent: 'question', plan: ['knowledge', 'reporting'] },
      usage: { promptTokens: 4, completionTokens: 1, costUsd: 0.5 },
    };
    const cancelled = setup({ results: { triage, reporting: new RunAborted('cancelled by the user') } });
    await cancelled.supervisor.execute(request(), 1, () => undefined);
    expect(cancelled.published.at(-1)).toEqual({
      type: 'run_cancelled',
      data: { reason: 'cancelled by the user', usage: { promptTokens: 7, completionTokens: 1, totalTokens: 8, costUsd: 0.5 } },
      progress: 1,
    });

    const failed = setup({ results: { triage, reporting: new StepFailed('reporting', 'LLM_ERROR: upstream 500') } });
    await failed.supervisor.execute(request(), 1, () => undefined);
    expect(failed.published.at(-1)).toMatchObject({
      type: 'error',
      data: { code: 'LLM_ERROR', usage: { promptTokens: 7, completionTokens: 1, totalTokens: 8, costUsd: 0.5 } },
    });
  });

  it('maps a step timeout to TIMEOUT and a failed step to its code, never leaking the reason', async () => {
    const timedOut = setup({ results: { knowledge: new StepTimeout('knowledge') } });
    await timedOut.supervisor.execute(request(), 1, () => undefined);
    expect(timedOut.published.at(-1)).toMatchObject({ type: 'error', data: { code: 'TIMEOUT', retryable: true } });

    const failed = setup({ results: { reporting: new StepFailed('reporting', 'LLM_ERROR: upstream 500 at /v1/chat') } });
    await failed.supervisor.execute(request(), 1, () => undefined);
    const last = failed.published.at(-1)!;
    expect(last).toMatchObject({ type: 'error', data: { code: 'LLM_ERROR' } });
    expect(JSON.stringify(last.data)).not.toContain('/v1/chat');

    const crashed = setup({ results: { triage: new StepFailed('triage', 'TypeError: x is undefined') } });
    await crashed.supervisor.execute(request(), 1, () => undefined);
    expect(crashed.published.at(-1)).toMatchObject({ type: 'error', data: { code: 'INTERNAL' } });
  });

  it('runs the plan of each intent in order, handing each step the findings so far', async () => {
    const plans: Record<string, string[]> = {
      chitchat: ['reporting'],
      question: ['knowledge', 'reporting'],
      data: ['data', 'reporting'],
      report: ['knowledge', 'data', 'reporting'],
    };
    for (const [intent, plan] of Object.entries(plans)) {
      const table = { title: 'Revenue by region', notes: [] };
      // Stages of one step each here (the parallel stage has tests of its own).
      const ctx = setup({
        results: { triage: { output: { intent, plan } }, data: { output: table } },
        config: { RUN_PARALLEL_STEPS: false },
      });
      await ctx.supervisor.execute(request(), 1, () => undefined);
      expect(ctx.jobs.map((j) => j.agent)).toEqual(['triage', ...plan]);
      const reporting = ctx.jobs.at(-1)!;
      expect(reporting.input).toMatchObject({ intent, question: 'What is JetStream?' });
      if (plan.includes('data')) expect(reporting.input.data).toEqual(table);
      // Progress shares tile 0.15..0.97 without gaps.
      const ranges = ctx.jobs.slice(1).map((j) => j.progress);
      expect(ranges[0].from).toBe(0.15);
      expect(ranges.at(-1)!.to).toBe(0.97);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i].from).toBe(ranges[i - 1].to);
      expect(ctx.published.at(-1)!.type).toBe('orchestration_completed');
    }
  });

  it('gives the steps triage says may wait for the user the response timeout on top of the step timeout', async () => {
    const ctx = setup({
      results: {
        triage: { output: { intent: 'data', plan: ['data', 'reporting'], interactive: ['data'] } },
        data: { output: { title: 't' } },
      },
    });
    await ctx.supervisor.execute(request(), 1, () => undefined);
    const run = ctx.stepRun;
    expect(run.mock.calls.map(([job, o]) => [job.agent, o.timeoutMs])).toEqual([
      ['triage', 1000],
      ['data', 6000],
      ['reporting', 1000],
    ]);
  });

  it('runs an agent it has never heard of when triage plans it, handing its output on under its name', async () => {
    const ctx = setup({
      results: {
        triage: { output: { intent: 'question', plan: ['orders', 'knowledge', 'reporting'], interactive: ['orders'] } },
        orders: { output: { orderId: '10042', status: 'delivered' } },
      },
    });
    await ctx.supervisor.execute(request(), 1, () => undefined);
    const run = ctx.stepRun;
    expect(run.mock.calls.map(([job, o]) => [job.agent, o.timeoutMs])).toEqual([
      ['triage', 1000],
      ['orders', 6000],
      ['knowledge', 1000],
      ['reporting', 1000],
    ]);
    expect(ctx.jobs.at(-1)!.input).toMatchObject({ intent: 'question', orders: { orderId: '10042', status: 'delivered' } });
    expect(ctx.published.at(-1)!.type).toBe('orchestration_completed');
  });

  it('adds up cost', async () => {
    const ctx = setup({
      results: {
        triage: { output: { intent: 'chitchat', plan: ['reporting'] }, usage: { promptTokens: 1, completionTokens: 1, costUsd: 0.001 } },
        reporting: { output: { content: 'hi' }, usage: { promptTokens: 2, completionTokens: 3, costUsd: 0.002 } },
      },
    });
    await ctx.supervisor.execute(request(), 1, () => undefined);
    expect(ctx.published.at(-1)).toMatchObject({
      type: 'orchestration_completed',
      data: { usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7, costUsd: 0.003 } },
    });
  });

  it('says whether a failure is worth retrying', async () => {
    const final = setup({ results: { reporting: new StepFailed('reporting', 'LLM_ERROR (final): 401 from the model') } });
    await final.supervisor.execute(request(), 1, () => undefined);
    expect(final.published.at(-1)).toMatchObject({ type: 'error', data: { code: 'LLM_ERROR', retryable: false } });
    const unanswered = setup({ results: { knowledge: new StepFailed('knowledge', 'TIMEOUT (final): No answer came in time.') } });
    await unanswered.supervisor.execute(request(), 1, () => undefined);
    expect(unanswered.published.at(-1)).toMatchObject({
      type: 'error',
      data: { code: 'TIMEOUT', message: expect.stringMatching(/No answer came in time/) },
    });
  });

  it('reports a step timeout as TIMEOUT even though stopping the workers also aborted the run signal here', async () => {
    const ctx = setup({
      onStep: (job) => {
        if (job.agent === 'knowledge') ctx.controller.abort(new RunAborted('stopped by the supervisor'));
      },
      results: { knowledge: new StepTimeout('knowledge') },
    });
    await ctx.supervisor.execute(request(), 1, () => undefined);
    expect(ctx.published.at(-1)).toMatchObject({ type: 'error', data: { code: 'TIMEOUT' } });
  });

  describe('a parallel stage', () => {
    const passages = [{ id: 'p1', title: 'T', content: 'c', score: 0.5 }];
    const table = { title: 'Revenue by region', notes: [] };
    const report = { output: { intent: 'report', plan: [['knowledge', 'data'], 'reporting'], interactive: ['data'] } };

    /** A step that ends when told to (or rejects with its signal's reason when that aborts first). */
    function held<T extends AgentJobResult>(value: T) {
      let release!: () => void;
      let failWith: Error | undefined;
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const step = (_job: AgentJob, signal: AbortSignal) => {
        started();
        return new Promise<AgentJobResult>((resolve, reject) => {
          release = () => (failWith ? reject(failWith) : resolve(value));
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      };
      return {
        step,
        running,
        end: () => release(),
        fail: (err: Error) => ((failWith = err), release()),
      };
    }

    it('queues every step of the stage before any ends; the next stage waits for all and gets all their outputs', async () => {
      const knowledge = held({ output: { passages } });
      const data = held({ output: table });
      const ctx = setup({ results: { triage: report, knowledge: knowledge.step, data: data.step } });
      const run = ctx.supervisor.execute(request(), 1, () => undefined);
      await Promise.all([knowledge.running, data.running]);
      expect(ctx.jobs.map((j) => [j.agent, j.step])).toEqual([
        ['triage', 0],
        ['knowledge', 1],
        ['data', 2],
      ]);
      // Both see what was found before the stage, not each other's output.
      expect(ctx.jobs[1].input).toEqual(ctx.jobs[2].input);
      data.end(); // the later step of the plan ends first: the order of the hand-on is still the plan's
      await new Promise((r) => setImmediate(r));
      expect(ctx.jobs).toHaveLength(3);
      knowledge.end();
      await run;
      const reporting = ctx.jobs[3];
      expect(reporting).toMatchObject({ agent: 'reporting', step: 3, input: { intent: 'report', passages, data: table } });
      // The stage's steps hold its range's start (their events interleave); the next stage starts at its end.
      expect(ctx.jobs[1].progress).toEqual({ from: 0.15, to: 0.15 });
      expect(ctx.jobs[2].progress).toEqual({ from: 0.15, to: 0.15 });
      expect(reporting.progress).toEqual({ from: 0.5, to: 0.97 });
      expect(ctx.published.map((p) => p.type)).toEqual(['orchestration_started', 'orchestration_completed']);
      const timeouts = ctx.stepRun.mock.calls.map(([job, o]) => [job.agent, o.timeoutMs]);
      expect(timeouts).toEqual([
        ['triage', 1000],
        ['knowledge', 1000],
        ['data', 6000],
        ['reporting', 1000],
      ]);
    });

    it('a failed step stops its siblings and ends the run with one error; nothing runs after', async () => {
      const knowledge = held({ output: { passages } });
      const data = held({ output: table });
      const ctx = setup({ results: { triage: report, knowledge: knowledge.step, data: data.step } });
      const run = ctx.supervisor.execute(request(), 1, () => undefined);
      await Promise.all([knowledge.running, data.running]);
      data.fail(new StepFailed('data', 'UNAVAILABLE: the dataset is down'));
      await run;
      expect(ctx.jobs.map((j) => j.agent)).toEqual(['triage', 'knowledge', 'data']);
      // The run is flagged and the workers told, once: a sibling not started yet is refused by the worker that takes it.
      expect(ctx.cancellation.cancel).toHaveBeenCalledTimes(1);
      expect(ctx.cancellation.cancel).toHaveBeenCalledWith({ runId: 'r1', userId: 'u1', reason: 'stopped by the supervisor' });
      expect(ctx.published.map((p) => p.type)).toEqual(['orchestration_started', 'error']);
      expect(ctx.published[1].data).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    });

    it('is still an error, not a cancel, when the stop broadcast aborted the run signal here too', async () => {
      const knowledge = held({ output: { passages } });
      const ctx = setup({
        results: {
          triage: report,
          knowledge: knowledge.step,
          data: async () => {
            await knowledge.running;
            throw new StepTimeout('data');
          },
        },
      });
      (ctx.cancellation.stopWorkers as jest.Mock).mockImplementation(() =>
        ctx.controller.abort(new RunAborted('stopped by the supervisor')),
      );
      await ctx.supervisor.execute(request(), 1, () => undefined);
      expect(ctx.published.map((p) => p.type)).toEqual(['orchestration_started', 'error']);
      expect(ctx.published[1].data).toMatchObject({ code: 'TIMEOUT' });
    });

    it('a cancel stops every step of the stage and ends the run with run_cancelled', async () => {
      const knowledge = held({ output: { passages } });
      const data = held({ output: table });
      const ctx = setup({ results: { triage: report, knowledge: knowledge.step, data: data.step } });
      const run = ctx.supervisor.execute(request(), 1, () => undefined);
      await Promise.all([knowledge.running, data.running]);
      ctx.controller.abort(new RunAborted('cancelled by the user'));
      await run;
      expect(ctx.jobs.map((j) => j.agent)).toEqual(['triage', 'knowledge', 'data']);
      expect(ctx.published.map((p) => p.type)).toEqual(['orchestration_started', 'run_cancelled']);
      expect(ctx.published[1].data).toEqual({
        reason: 'cancelled by the user',
        usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      });
    });

    it('runs one step after the other with RUN_PARALLEL_STEPS=false', async () => {
      const ctx = setup({
        results: { triage: report, knowledge: { output: { passages } }, data: { output: table } },
        config: { RUN_PARALLEL_STEPS: false },
      });
      await ctx.supervisor.execute(request(), 1, () => undefined);
      expect(ctx.jobs.map((j) => j.agent)).toEqual(['triage', 'knowledge', 'data', 'reporting']);
      expect(ctx.jobs[2].input).toMatchObject({ passages });
      expect(ctx.jobs.slice(1).map((j) => j.progress.from)).toEqual([0.15, expect.any(Number), expect.any(Number)]);
      for (let i = 2; i < ctx.jobs.length; i++) expect(ctx.jobs[i].progress.from).toBe(ctx.jobs[i - 1].progress.to);
    });
  });

  describe('runStage', () => {
    it('rejects with the first failure, once every sibling has settled', async () => {
      const order: string[] = [];
      const first = new StepFailed('a', 'boom');
      const stage = runStage(['a', 'b'], [0.1, 0.5], new AbortController().signal, async (agent, range, signal) => {
        expect(range).toEqual([0.1, 0.1]);
        if (agent === 'a') {
          await new Promise((r) => setImmediate(r));
          throw first;
        }
        await new Promise((_r, reject) =>
          signal.addEventListener('abort', () => setTimeout(() => (order.push('b settled'), reject(signal.reason)), 5)),
        );
      });
      await expect(stage).rejects.toBe(first);
      expect(order).toEqual(['b settled']);
    });

    it('gives a stage of one step the whole range and the run signal', async () => {
      const signal = new AbortController().signal;
      await expect(runStage(['a'], [0.1, 0.5], signal, async (agent, range, s) => [agent, range, s === signal])).resolves.toEqual([
        ['a', [0.1, 0.5], true],
      ]);
    });
  });
});
