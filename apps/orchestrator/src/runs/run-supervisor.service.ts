import { Inject, Injectable } from '@nestjs/common';
import { handOn, initialFindings, progressShares, runPlanOf } from '@herald/agents';
import {
  AGENT,
  type AgentJob,
  type AgentJobResult,
  ErrorCode,
  HeraldError,
  type HistoryMessage,
  parseJobFailureReason,
  PERSISTENCE_RPC,
  type RunRequest,
  isTerminalRunStatus,
  type Usage,
} from '@herald/contracts';
import { type Config } from '@herald/config';
import { CANCEL_REASON, CONFIG, LOGGER, RpcClient, type RunScope } from '@herald/messaging';
import { type Logger, SpanKind, startSpan, type TracedSpan } from '@herald/observability';

import { AgentSteps, StepFailed, StepTimeout } from './agent-steps.service';
import { ConversationLanes } from './conversation-lanes.service';
import { RunAborted, RunCancellation } from './run-cancellation.service';
import { RunEvents } from './run-events.service';

const HISTORY_LIMIT = 10;
const KEEPALIVE_MS = 10_000;

/** The share of the run's progress each step owns: triage a fixed one, the planned steps the rest by weight (progressShares). */
const PROGRESS = { started: 0.02, triage: [0.05, 0.15], end: 0.97 } as const;

/**
 * The run use case: wait for the conversation's turn (onBusy), then triage, which plans the
 * next stages from the intent and the agents registered for it (built-ins: chitchat →
 * reporting; question → knowledge, reporting; data → data, reporting; report → knowledge and
 * data in parallel, then reporting) and says which of them may wait for the user; each step
 * is a BullMQ job on a worker, the steps of a stage at once; the run ends with exactly one
 * terminal event whatever happens.
 */
@Injectable()
export class RunSupervisor {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly rpc: RpcClient,
    private readonly lanes: ConversationLanes,
    private readonly cancellation: RunCancellation,
    private readonly steps: AgentSteps,
    private readonly events: RunEvents,
  ) {}

  /**
   * Drives one run to its terminal event. `order` is the run's admission order (its RUNS
   * stream sequence); `keepAlive` is called periodically while the run is held; `redelivered`:
   * the request was delivered before (its steps' jobs are marked `redriven`).
   */
  async execute(request: RunRequest, order: number, keepAlive: () => void, redelivered = false): Promise<void> {
    // The run's span, a child of the gateway's chat:send span; each step's span is its child.
    const span = startSpan('run', {
      parent: request.traceparent,
      kind: SpanKind.CONSUMER,
      attributes: { runId: request.runId, conversationId: request.conversationId },
    });
    const scope: RunScope = {
      userId: request.userId,
      conversationId: request.conversationId,
      runId: request.runId,
      traceparent: span.traceparent,
    };
    const log = this.logger.child({
      runId: request.runId,
      conversationId: request.conversationId,
      userId: request.userId,
      traceId: span.traceId,
    });
    const signal = this.cancellation.register(request.runId);
    const startedAt = Date.now();
    // What the run's finished steps used: every terminal event carries it (persistence counts it once).
    const usage: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    const timer = setInterval(() => {
      keepAlive();
      void this.lanes.renew(request.conversationId, request.runId).catch(() => undefined);
    }, KEEPALIVE_MS);
    try {
      if (await this.alreadyEnded(request, scope.traceparent)) {
        log.info('run request for a run that already ended: ignored');
        span.endWith('already_ended');
        return;
      }
      await this.takeTurn(request, order, scope, signal);
      await this.events.started(scope, PROGRESS.started);
      await this.runSteps(request, scope, signal, usage, redelivered);
      const latencyMs = Date.now() - startedAt;
      await this.events.terminal(
        scope,
        'orchestration_completed',
        { durationMs: latencyMs, usage },
        request.options.traceLevel === 'none' ? undefined : { latencyMs, tokens: usage.totalTokens },
      );
      log.info({ durationMs: latencyMs }, 'run completed');
      span.endWith('completed');
    } catch (err) {
      await this.endWithFailure(scope, err, signal, usage, log, span);
    } finally {
      clearInterval(timer);
      this.cancellation.unregister(request.runId);
      await this.lanes.leave(request.conversationId, request.runId).catch((e) => log.warn({ err: e }, 'leaving lane failed'));
    }
  }

  /**
   * Applies onBusy: start now, or announce the position and wait (an interrupt cancels the
   * active run first). A run flagged cancelled (a cancel that raced its start) never joins.
   */
  private async takeTurn(request: RunRequest, order: number, scope: RunScope, signal: AbortSignal) {
    const { conversationId, runId } = request;
    const interrupt = request.options.onBusy === 'interrupt';
    // The cancel check, the join and the first start attempt are one Redis round trip.
    const outcome = await this.lanes.joinAndTryStart(conversationId, runId, order, interrupt);
    if (outcome === 'cancelled') throw new RunAborted(CANCEL_REASON.user);
    if (outcome === 'started') return;
    // Not started: an interrupt cancels the run holding the conversation, then tries again.
    if (interrupt) {
      const active = await this.lanes.activeRun(conversationId);
      if (active && active !== runId) {
        await this.cancellation.cancel({ runId: active, userId: request.userId, reason: CANCEL_REASON.interrupted });
      }
      if (await this.lanes.tryStart(conversationId, runId)) return;
    }
    await this.events.queued(scope, await this.lanes.position(conversationId, runId));
    await this.lanes.waitTurn(conversationId, runId, signal);
  }

  /** Runs triage and the steps it planned; each finished step's usage is added to `usage`. */
  private async runSteps(request: RunRequest, scope: RunScope, signal: AbortSignal, usage: Usage, redelivered: boolean): Promise<void> {
    const history = await this.loadHistory(request.conversationId, request.runId, scope.traceparent);
    const findings = initialFindings(request.content);
    let stopped = false;
    /**
     * Stops every job of the run, once (a cancel, a timeout, a failed parallel sibling): the run
     * is flagged, so a worker refuses a job of it that it takes only now (a sibling still
     * queued), and the workers running one abort it.
     */
    const stop = () => {
      if (stopped) return;
      stopped = true;
      const command = { runId: scope.runId, userId: scope.userId, reason: CANCEL_REASON.supervisor };
      this.cancellation.cancel(command).catch(() => this.cancellation.stopWorkers(command));
    };
    let step = 0;
    const runStep = async (agent: string, [from, to]: readonly [number, number], stepSignal: AbortSignal, interactive = false) => {
      // Numbered before anything is awaited: the steps of a stage get theirs in plan order, the same on a redelivery.
      const number = step++;
      // The step's span covers its BullMQ job; the worker's span for the job is its child.
      const stepSpan = startSpan(`step ${agent}`, {
        parent: scope.traceparent,
        kind: SpanKind.PRODUCER,
        attributes: { runId: scope.runId, conversationId: scope.conversationId, agent, step: number },
      });
      const job: AgentJob = {
        ...scope,
        messageId: request.messageId,
        agent,
        step: number,
        input: { ...findings },
        history,
        traceLevel: request.options.traceLevel,
        stream: request.options.stream,
        progress: { from, to },
        traceparent: stepSpan.traceparent,
        ...(redelivered ? { redriven: true } : {}),
      };
      // A step that may wait for the user gets that wait on top of its own time limit.
      const timeoutMs = this.config.RUN_STEP_TIMEOUT_MS + (interactive ? this.config.HUMAN_RESPONSE_TIMEOUT_MS : 0);
      let result: AgentJobResult;
      try {
        result = await this.steps.run(job, { signal: stepSignal, timeoutMs, stop });
      } catch (err) {
        endTraced(stepSpan, err, signal);
        throw err;
      }
      stepSpan.endWith('completed');
      if (result.usage) {
        usage.promptTokens += result.usage.promptTokens;
        usage.completionTokens += result.usage.completionTokens;
        usage.totalTokens += result.usage.promptTokens + result.usage.completionTokens;
        if (result.usage.costUsd !== undefined) usage.costUsd = roundUsd((usage.costUsd ?? 0) + result.usage.costUsd);
      }
      return result.output;
    };

    const triage = await runStep(AGENT.triage, PROGRESS.triage, signal);
    const plan = runPlanOf(triage);
    findings.intent = plan.intent;
    const stages = this.config.RUN_PARALLEL_STEPS === false ? plan.stages.flat().map((agent) => [agent]) : plan.stages;
    const shares = progressShares(stages, PROGRESS.triage[1], PROGRESS.end);
    for (const [i, stage] of stages.entries()) {
      const outputs = await runStage(stage, shares[i], signal, (agent, range, stageSignal) =>
        runStep(agent, range, stageSignal, plan.interactive.has(agent)),
      );
      // Handed on in plan order, whichever step of the stage ended first.
      for (const [j, agent] of stage.entries()) handOn(findings, agent, outputs[j]);
    }
  }

  /** A request delivered again (a re-published duplicate, a redelivery) for a run that has its terminal event. */
  private async alreadyEnded(request: RunRequest, traceparent: string | undefined): Promise<boolean> {
    const run = await this.rpc.call(PERSISTENCE_RPC.getRun, { userId: request.userId, runId: request.runId }, { traceparent });
    return isTerminalRunStatus(run.status);
  }

  private async loadHistory(conversationId: string, runId: string, traceparent: string | undefined): Promise<HistoryMessage[]> {
    const reply = await this.rpc.call(PERSISTENCE_RPC.history, { conversationId, runId, limit: HISTORY_LIMIT }, { traceparent });
    return reply.messages;
  }

  private async endWithFailure(scope: RunScope, err: unknown, signal: AbortSignal, usage: Usage, log: Logger, span: TracedSpan) {
    endTraced(span, err, signal);
    try {
      if (cancelled(err, signal)) {
        const reason = err instanceof RunAborted ? err.reason : signal.reason instanceof RunAborted ? signal.reason.reason : 'cancelled';
        await this.events.terminal(scope, 'run_cancelled', { reason, usage });
        log.info({ reason }, 'run cancelled');
      } else if (err instanceof StepTimeout) {
        await this.events.terminal(scope, 'error', {
          code: ErrorCode.TIMEOUT,
          message: 'This took too long and was stopped. Please try again.',
          retryable: true,
          usage,
        });
        log.warn({ agent: err.agent }, 'run step timed out');
      } else {
        const { code, retryable } =
          err instanceof StepFailed
            ? failureOf(err.reason)
            : { code: HeraldError.is(err) ? err.code : ErrorCode.INTERNAL, retryable: true };
        await this.events.terminal(scope, 'error', { code, message: USER_MESSAGES[code] ?? USER_MESSAGES.INTERNAL!, retryable, usage });
        log.error({ err }, 'run failed');
      }
    } catch (publishErr) {
      // The terminal event could not be stored: let JetStream redeliver the run request.
      log.error({ err: publishErr }, 'could not publish the terminal event');
      throw publishErr;
    }
  }
}

/**
 * The run was cancelled (the user, an interrupt). The stopWorkers() broadcast that stops a
 * timed-out step, or the parallel siblings of a failed one, also reaches this instance's
 * cancellation and aborts the run's signal: the timeout or the failure is still the cause.
 */
function cancelled(err: unknown, signal: AbortSignal): boolean {
  return !(err instanceof StepTimeout || err instanceof StepFailed) && (err instanceof RunAborted || signal.aborted);
}

/**
 * Runs the steps of one stage at once and resolves with their outputs, in the stage's order.
 * A stage of several steps shares its range of the run's progress: their events come from
 * different workers and interleave in the EVENTS stream in any order, so each holds the
 * range's start (a value none of them can undercut) and the next stage starts at its end.
 * The first step to fail (or time out) stops its siblings (their open tool calls close with
 * `ok: false`); once every step has settled, nothing of the stage can follow the run's
 * terminal event, and the stage rejects with that first failure (or the run's cancel).
 */
export async function runStage<T>(
  stage: readonly string[],
  [from, to]: readonly [number, number],
  signal: AbortSignal,
  run: (agent: string, range: readonly [number, number], stageSignal: AbortSignal) => Promise<T>,
): Promise<T[]> {
  if (stage.length === 1) return [await run(stage[0], [from, to], signal)];
  const siblings = new AbortController();
  const stageSignal = AbortSignal.any([signal, siblings.signal]);
  let failure: { err: unknown } | undefined;
  const settled = await Promise.allSettled(
    stage.map((agent) =>
      run(agent, [from, from], stageSignal).catch((err: unknown) => {
        if (!stageSignal.aborted) {
          failure = { err };
          siblings.abort(err);
        }
        throw err;
      }),
    ),
  );
  if (failure) throw failure.err;
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Ends a span with the way its work ended: cancelled is no error; anything else is. */
function endTraced(span: TracedSpan, err: unknown, signal: AbortSignal): void {
  if (cancelled(err, signal)) span.endWith('cancelled');
  else span.end(err);
}

/** What the user reads for each code a step can fail with: never the internal reason. */
const USER_MESSAGES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.INTERNAL]: 'The assistant ran into a problem while working on your message. Please try again.',
  [ErrorCode.UNAVAILABLE]: 'A service the assistant needs is unavailable. Please try again shortly.',
  [ErrorCode.LLM_ERROR]: 'The language model could not answer right now. Please try again.',
  [ErrorCode.TIMEOUT]: 'No answer came in time, so the assistant stopped waiting. Send your message again when you are ready.',
  [ErrorCode.INVALID_INPUT]: 'The assistant could not work on this message. Please rephrase it.',
};

/** Workers fail jobs with "CODE: message" ("CODE (final): message") when they know the code (e.g. LLM_ERROR). */
function failureOf(reason: string): { code: ErrorCode; retryable: boolean } {
  const parsed = parseJobFailureReason(reason);
  if (!parsed || !(parsed.code in ErrorCode)) return { code: ErrorCode.INTERNAL, retryable: true };
  return { code: parsed.code as ErrorCode, retryable: parsed.retryable && parsed.code !== ErrorCode.INVALID_INPUT };
}

function roundUsd(n: number): number {
  return Math.round(n * 1e8) / 1e8;
}
