import { type EventData, ErrorCode, HeraldError, type HistoryMessage, type TraceLevel } from '@herald/contracts';
import type { ModelUsage } from '../models/model-provider';
import type { AgentContext, AgentResources, StepInfo, ToolOptions } from './agent-context';
import { ApprovalRefused, ToolError } from './errors';
import { type Approval, fitsRequest, type HumanChannel, type HumanRequestKind, type HumanResponse } from './human-channel';
import type { AgentEventType, EventSink } from './event-sink';
import type { MeteredModel } from './metered-model';
import { mergeTraceFields, traceFor, type TraceFields } from './trace';

export interface StepContextOptions {
  agent: { name: string; description: string };
  step: StepInfo;
  history: readonly HistoryMessage[];
  traceLevel: TraceLevel;
  sink: EventSink;
  model: MeteredModel;
  resources: AgentResources;
  signal: AbortSignal;
  human: HumanChannel;
  /** The step's budget for waiting on the user, all waits together. */
  humanResponseTimeoutMs: number;
}

const GENERIC_TOOL_ERROR = 'The tool failed unexpectedly.';
export const NO_ANSWER_MESSAGE = 'No answer came in time, so I stopped waiting. Send your message again when you are ready.';

/** The AgentContext of one step: turns what the agent does into events on the sink. */
export class StepContext implements AgentContext {
  readonly agent: string;
  readonly step: StepInfo;
  readonly model: MeteredModel;
  readonly history: readonly HistoryMessage[];
  readonly signal: AbortSignal;
  readonly trace: TraceLevel;
  readonly resources: AgentResources;
  private readonly description: string;
  private readonly sink: EventSink;
  private readonly human: HumanChannel;
  private waitBudgetMs: number;
  private toolCalls = 0;
  private requests = 0;
  private fraction = 0;
  private completionTrace: TraceFields = {};

  constructor(opts: StepContextOptions) {
    this.agent = opts.agent.name;
    this.description = opts.agent.description;
    this.step = Object.freeze({ ...opts.step });
    this.model = opts.model;
    this.history = Object.freeze([...opts.history]);
    this.signal = opts.signal;
    this.trace = opts.traceLevel;
    this.resources = opts.resources;
    this.sink = opts.sink;
    this.human = opts.human;
    this.waitBudgetMs = opts.humanResponseTimeoutMs;
  }

  thinking(thought: string, trace?: TraceFields): Promise<void> {
    return this.publish('agent_thinking', { agent: this.agent, thought }, trace);
  }

  status(step: string, message: string): Promise<void> {
    return this.publish('status', { step, message });
  }

  async tool<R>(name: string, input: unknown, fn: (signal: AbortSignal) => Promise<R>, opts: ToolOptions<R> = {}): Promise<R> {
    if (opts.approval) {
      const decision = await this.approve(opts.approval.action, opts.approval.details ?? input);
      if (!decision.approved) throw new ApprovalRefused(opts.approval.action, decision.comment);
    }
    const callId = `call_${this.step.step}_${++this.toolCalls}`;
    const base = { agent: this.agent, tool: name, callId };
    await this.publish('tool_executing', { ...base, input });
    const startedAt = performance.now();
    let result: R;
    try {
      result = await fn(this.signal);
    } catch (err) {
      this.signal.throwIfAborted();
      const durationMs = elapsedMs(startedAt);
      const error = toolErrorMessage(err);
      await this.publish('tool_completed', { ...base, ok: false, error, durationMs }, { latencyMs: durationMs });
      throw new ToolError(name, callId, error, { cause: err });
    }
    this.signal.throwIfAborted();
    const durationMs = elapsedMs(startedAt);
    const output = opts.output ? opts.output(result) : result;
    const trace = mergeTraceFields({ latencyMs: durationMs }, opts.trace?.(result) ?? {});
    await this.publish('tool_completed', { ...base, ok: true, output, durationMs }, trace);
    return result;
  }

  async ask(question: string, choices?: readonly string[]): Promise<string> {
    const options = choices?.length ? [...choices] : undefined;
    const answer = await this.waitForUser('clarification', (requestId) =>
      this.publish('clarification_requested', { requestId, question, ...(options ? { choices: options } : {}) }),
    );
    const text = String(answer).trim();
    return options?.find((c) => c.toLowerCase() === text.toLowerCase()) ?? text;
  }

  async approve(action: string, details: unknown): Promise<Approval> {
    const answer = await this.waitForUser('approval', (requestId) => this.publish('approval_requested', { requestId, action, details }));
    const { approved, comment } = answer as Approval;
    return { approved: approved === true, ...(comment ? { comment } : {}) };
  }

  progress(fraction: number): void {
    if (!Number.isFinite(fraction)) return;
    const f = Math.min(1, Math.max(0, fraction));
    if (f <= this.fraction) return;
    this.fraction = f;
    this.sink.progress(f);
  }

  emit<T extends 'message_delta' | 'message'>(type: T, data: EventData<T>, trace?: TraceFields): Promise<void> {
    return this.publish(type, data, trace);
  }

  addTrace(fields: TraceFields): void {
    this.completionTrace = mergeTraceFields(this.completionTrace, fields);
  }

  /** `agent_started`: the runner calls it before the agent's run(). */
  started(): Promise<void> {
    return this.publish('agent_started', { agent: this.agent, description: this.description });
  }

  /** `agent_completed` at the end of the step's progress: the runner calls it after run() returns. */
  completed(durationMs: number, summary: string | undefined, usage: ModelUsage | undefined): Promise<void> {
    this.progress(1);
    const ms = Math.round(durationMs);
    const spent: TraceFields = usage
      ? { tokens: usage.promptTokens + usage.completionTokens, ...(usage.costUsd !== undefined ? { costUsd: usage.costUsd } : {}) }
      : {};
    const trace = mergeTraceFields({ latencyMs: ms, ...spent }, this.completionTrace);
    return this.publish('agent_completed', { agent: this.agent, durationMs: ms, ...(summary ? { summary } : {}) }, trace);
  }

  /**
   * Publishes a request with a fresh id and waits for the answer, within what is left of the
   * step's waiting budget. The answer is acknowledged with a `status` (the run is no longer
   * waiting), so the run's status goes back to `running` at once.
   */
  private async waitForUser(kind: HumanRequestKind, request: (requestId: string) => Promise<void>): Promise<HumanResponse> {
    this.signal.throwIfAborted();
    if (this.waitBudgetMs <= 0) throw new HeraldError(ErrorCode.TIMEOUT, NO_ANSWER_MESSAGE);
    const requestId = `req_${this.step.step}_${++this.requests}`;
    const wait = new AbortController();
    const onAbort = () => wait.abort(this.signal.reason);
    this.signal.addEventListener('abort', onAbort, { once: true });
    const answer = this.human.waitFor({ runId: this.step.runId, requestId, kind }, wait.signal);
    answer.catch(() => undefined);
    const startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    try {
      await request(requestId);
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => {
            expired = true;
            reject(new HeraldError(ErrorCode.TIMEOUT, NO_ANSWER_MESSAGE));
          },
          Math.max(0, this.waitBudgetMs),
        );
      });
      const response = await Promise.race([answer, timedOut]);
      if (!fitsRequest(kind, response)) throw new HeraldError(ErrorCode.INVALID_INPUT, 'The answer does not fit the request.');
      await this.status('resuming', kind === 'approval' ? 'Got your decision; carrying on…' : 'Got your answer; carrying on…');
      return response;
    } finally {
      clearTimeout(timer);
      // A timer may fire a little before the clock says the budget is spent: a wait that
      // timed out has used all of it.
      this.waitBudgetMs = expired ? 0 : this.waitBudgetMs - (performance.now() - startedAt);
      this.signal.removeEventListener('abort', onAbort);
      if (!wait.signal.aborted) wait.abort(new Error('wait over'));
    }
  }

  private async publish<T extends AgentEventType>(type: T, data: EventData<T>, fields?: TraceFields): Promise<void> {
    this.signal.throwIfAborted();
    await this.sink.emit(type, data, traceFor(this.trace, type, fields));
  }
}

function elapsedMs(startedAt: number): number {
  return Math.max(0, Math.round(performance.now() - startedAt));
}

/** The tool error users may read: a HeraldError's or ToolError's message, else a generic line. */
function toolErrorMessage(err: unknown): string {
  if (HeraldError.is(err) || err instanceof ToolError) return err.message;
  return GENERIC_TOOL_ERROR;
}
