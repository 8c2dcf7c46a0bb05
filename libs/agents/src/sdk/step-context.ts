import { type EventData, ErrorCode, HeraldError, type HistoryMessage, type TraceLevel } from '@herald/contracts';
import type { ModelTool, ModelUsage, ToolLoopResult } from '../models/model-provider';
import type { AgentContext, AgentResources, AgentToolLoopRequest, StepInfo, ToolOptions } from './agent-context';
import { type AnyAgentTool, modelToolNames, type ToolCall } from './agent-tool';
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
export const CANCELLED_TOOL_ERROR = 'Cancelled before it finished.';
/** A `tool_progress` message, and a thought of the model, are cut to this many characters. */
const PROGRESS_MESSAGE_MAX = 1_000;
const THOUGHT_MAX = 8_000;
/** What a tool call gives the model back, at most (characters of its JSON): a bigger result is cut and says so. */
export const MODEL_TOOL_RESULT_MAX = 64 * 1024;
const NO_ANSWER_MESSAGE = 'No answer came in time, so I stopped waiting. Send your message again when you are ready.';

/** The AgentContext of one step: turns what the agent does into events on the sink. */
export class StepContext implements AgentContext {
  readonly agent: string;
  readonly step: StepInfo;
  readonly model: MeteredModel;
  readonly history: readonly HistoryMessage[];
  readonly signal: AbortSignal;
  readonly trace: TraceLevel;
  readonly resources: AgentResources;
  /** `stepId` of the step's agent_* and tool_* events: its number in the run. */
  private readonly stepId: string;
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
    this.stepId = String(opts.step.step);
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
    return this.publish('agent_thinking', { agent: this.agent, stepId: this.stepId, thought }, trace);
  }

  status(step: string, message: string): Promise<void> {
    return this.publish('status', { step, message });
  }

  async tool<R>(
    name: string,
    input: unknown,
    fn: (signal: AbortSignal, call: ToolCall) => Promise<R>,
    opts: ToolOptions<R> = {},
  ): Promise<R> {
    this.signal.throwIfAborted();
    const callId = this.idOf('call', ++this.toolCalls);
    if (opts.approval) {
      const decision = await this.approve(opts.approval.action, opts.approval.details ?? input, { tool: name, callId, input });
      if (!decision.approved) throw new ApprovalRefused(opts.approval.action, decision.comment);
    }
    const base = { agent: this.agent, stepId: this.stepId, tool: name, callId };
    await this.publish('tool_executing', { ...base, input });
    const startedAt = performance.now();
    let done = false;
    let reported = -Infinity;
    const call: ToolCall = {
      signal: this.signal,
      callId,
      progress: (progress, total, message) => {
        if (done || this.signal.aborted || !Number.isFinite(progress) || progress < 0 || progress <= reported) return;
        reported = progress;
        const data = {
          ...base,
          progress,
          ...(total !== undefined && Number.isFinite(total) && total > 0 ? { total } : {}),
          ...(message ? { message: message.slice(0, PROGRESS_MESSAGE_MAX) } : {}),
        };
        this.publish('tool_progress', data).catch(() => undefined);
      },
    };
    let result: R;
    try {
      result = await untilAborted(fn(this.signal, call), this.signal);
    } catch (err) {
      done = true;
      const durationMs = elapsedMs(startedAt);
      if (this.signal.aborted) {
        // The call ends with the step: closed, so the run never shows it still running.
        await this.sink.emit(
          'tool_completed',
          { ...base, ok: false, error: CANCELLED_TOOL_ERROR, durationMs },
          traceFor(this.trace, 'tool_completed', { latencyMs: durationMs }),
          { evenIfAborted: true },
        );
        throw this.signal.reason;
      }
      const error = toolErrorMessage(err);
      await this.publish('tool_completed', { ...base, ok: false, error, durationMs }, { latencyMs: durationMs });
      throw new ToolError(name, callId, error, { cause: err });
    }
    done = true;
    this.signal.throwIfAborted();
    const durationMs = elapsedMs(startedAt);
    const output = opts.output ? opts.output(result) : result;
    const trace = mergeTraceFields({ latencyMs: durationMs }, opts.trace?.(result) ?? {});
    await this.publish('tool_completed', { ...base, ok: true, output, durationMs }, trace);
    return result;
  }

  async runTools(request: AgentToolLoopRequest): Promise<ToolLoopResult> {
    const runTools = this.model.runTools?.bind(this.model);
    if (!runTools) throw new Error(`the model ${this.model.name} cannot call tools`);
    const { tools: agentTools, ...completion } = request;
    const names = modelToolNames(agentTools.map((t) => t.name));
    // A failure that must end the step (a wait for the user that ran out) stops the loop with it.
    const stop = new AbortController();
    const inflight = new Set<Promise<unknown>>();
    const tools: ModelTool[] = agentTools.map((t, i) => ({
      name: names[i],
      description: t.description,
      inputSchema: t.inputSchema,
      execute: (input) => {
        const call = this.loopCall(t, input, stop);
        inflight.add(call);
        const forget = () => inflight.delete(call);
        call.then(forget, forget);
        return call;
      },
    }));
    try {
      return await runTools({
        ...completion,
        tools,
        signal: AbortSignal.any([this.signal, stop.signal]),
        onReasoning: async (thought) => {
          this.sink.modelDriven?.();
          await this.thinking(thought.length > THOUGHT_MAX ? `${thought.slice(0, THOUGHT_MAX)}…` : thought);
        },
      });
    } finally {
      // Calls still running when the loop stopped end first (a cancel ends them at once), so
      // none of their events can follow the step's end.
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    }
  }

  /** One call the model made in a tool loop: what the model gets back, or an Error whose message it reads. */
  private async loopCall(tool: AnyAgentTool, input: unknown, stop: AbortController): Promise<unknown> {
    this.sink.modelDriven?.();
    let approval: ToolOptions<unknown>['approval'];
    try {
      approval = tool.approval?.(input);
    } catch {
      approval = { action: `Run ${tool.name}` };
    }
    try {
      const result = await this.tool(tool.name, input, (_signal, call) => tool.run(input, call), {
        ...(approval ? { approval } : {}),
        ...(tool.output ? { output: (r: unknown) => tool.output!(r) } : {}),
        ...(tool.trace ? { trace: (r: unknown) => tool.trace!(r) } : {}),
      });
      return boundForModel(tool.forModel ? tool.forModel(result) : result);
    } catch (err) {
      this.signal.throwIfAborted();
      if (err instanceof ApprovalRefused) {
        return { declined: true, message: `The user declined this call${err.comment ? `: ${err.comment}` : '.'}` };
      }
      // The model reads the same line the user does (ToolError), never internals.
      if (err instanceof ToolError) throw new Error(err.message);
      // No answer to the approval in time: the run ends with TIMEOUT, as outside a loop.
      if (HeraldError.is(err) && err.code === ErrorCode.TIMEOUT) stop.abort(err);
      throw err;
    }
  }

  async ask(question: string, choices?: readonly string[]): Promise<string> {
    const options = choices?.length ? [...choices] : undefined;
    const answer = await this.waitForUser('clarification', (requestId) =>
      this.publish('clarification_requested', { requestId, question, ...(options ? { choices: options } : {}) }),
    );
    const text = String(answer).trim();
    return options?.find((c) => c.toLowerCase() === text.toLowerCase()) ?? text;
  }

  async approve(action: string, details: unknown, call?: { tool: string; callId: string; input: unknown }): Promise<Approval> {
    const answer = await this.waitForUser('approval', (requestId) =>
      this.publish('approval_requested', {
        requestId,
        action,
        details,
        ...(call ? { tool: call.tool, callId: call.callId, input: call.input } : {}),
      }),
    );
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
    return this.publish('agent_started', { agent: this.agent, stepId: this.stepId, description: this.description });
  }

  /** `agent_completed` at the end of the step's progress: the runner calls it after run() returns. */
  completed(durationMs: number, summary: string | undefined, usage: ModelUsage | undefined): Promise<void> {
    this.progress(1);
    const ms = Math.round(durationMs);
    const spent: TraceFields = usage
      ? { tokens: usage.promptTokens + usage.completionTokens, ...(usage.costUsd !== undefined ? { costUsd: usage.costUsd } : {}) }
      : {};
    const trace = mergeTraceFields({ latencyMs: ms, ...spent }, this.completionTrace);
    return this.publish(
      'agent_completed',
      { agent: this.agent, stepId: this.stepId, durationMs: ms, ...(summary ? { summary } : {}) },
      trace,
    );
  }

  /**
   * A tool call's or a request's id: `<kind>_<runId>_<step>_<n>`. Unique in the run and across
   * the runs of a conversation (AG-UI and AI SDK clients keep a whole thread's tool calls and
   * approvals by id), and the same again when the step is redelivered, so a retried step's
   * events keep the ids of the first attempt's.
   */
  private idOf(kind: 'call' | 'req', n: number): string {
    return `${kind}_${this.step.runId}_${this.step.step}_${n}`;
  }

  /**
   * Publishes a request with a fresh id and waits for the answer, within what is left of the
   * step's waiting budget. The answer is acknowledged with a `status` (the run is no longer
   * waiting), so the run's status goes back to `running` at once.
   */
  private async waitForUser(kind: HumanRequestKind, request: (requestId: string) => Promise<void>): Promise<HumanResponse> {
    this.signal.throwIfAborted();
    if (this.waitBudgetMs <= 0) throw new HeraldError(ErrorCode.TIMEOUT, NO_ANSWER_MESSAGE);
    const requestId = this.idOf('req', ++this.requests);
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

/** A tool result for the model, cut to MODEL_TOOL_RESULT_MAX characters of JSON (one huge result must not fill its context). */
function boundForModel(value: unknown): unknown {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  } catch {
    return { error: 'The result could not be read.' };
  }
  if (text.length <= MODEL_TOOL_RESULT_MAX) return value;
  return {
    truncated: true,
    note: `Only the first ${MODEL_TOOL_RESULT_MAX} characters of the result.`,
    content: text.slice(0, MODEL_TOOL_RESULT_MAX),
  };
}

/** `work`, or the signal's reason as soon as it aborts (a tool that ignores the signal cannot hold the step). */
function untilAborted<R>(work: Promise<R>, signal: AbortSignal): Promise<R> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<R>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err) => (signal.removeEventListener('abort', onAbort), reject(err)),
    );
  });
}

function elapsedMs(startedAt: number): number {
  return Math.max(0, Math.round(performance.now() - startedAt));
}

/** The tool error users may read: a HeraldError's or ToolError's message, else a generic line. */
function toolErrorMessage(err: unknown): string {
  if (HeraldError.is(err) || err instanceof ToolError) return err.message;
  return GENERIC_TOOL_ERROR;
}
