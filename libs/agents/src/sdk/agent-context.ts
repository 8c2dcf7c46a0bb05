import type { EventData, HistoryMessage, TraceLevel } from '@herald/contracts';
import type { DataWarehouse } from '../data/data-warehouse';
import type { KnowledgeBase } from '../knowledge/knowledge-base';
import type { CompletionRequest, ModelProvider, ToolLoopResult } from '../models/model-provider';
import type { AgentPlanner } from './agent-registry';
import type { AnyAgentTool, ToolCall } from './agent-tool';
import type { Approval } from './human-channel';
import type { TraceFields } from './trace';

/** The outside things agents' tools may use; the worker provides them. */
export interface AgentResources {
  knowledgeBase: KnowledgeBase;
  /** The data agent's dataset (read-only); absent where none is configured. */
  dataWarehouse?: DataWarehouse;
  /** The registered agents, which triage plans from (the worker's AgentRegistry). */
  agents?: AgentPlanner;
  /** Tools a model may pick in a tool loop besides the built-in ones: the MCP servers' (`<server>.<tool>`). */
  tools?: ToolSource;
}

/** Where tools come from: a list that may change (an MCP server's `notifications/tools/list_changed`). */
export interface ToolSource {
  /** The tools available now. */
  list(): readonly AnyAgentTool[];
}

/** A tool loop of the step's model (`ctx.runTools`). */
export interface AgentToolLoopRequest extends Omit<CompletionRequest, 'signal'> {
  tools: readonly AnyAgentTool[];
  /** Model calls at most (default: the model's, LLM_MAX_STEPS). */
  maxSteps?: number;
}

/** Which run and step an agent is working for. */
export interface StepInfo {
  runId: string;
  conversationId: string;
  /** The assistant message this run produces (message_delta / message). */
  messageId: string;
  step: number;
  /** The client asked for token streaming (message_delta). */
  stream: boolean;
}

export interface ToolOptions<R> {
  /** What `tool_completed.output` shows of the result (default: the result itself). */
  output?: (result: R) => unknown;
  /** Extra trace fields for `tool_completed`, e.g. `{ full: { query, scores } }`. */
  trace?: (result: R) => TraceFields;
  /**
   * The tool needs the user's approval: `approval_requested { action, details, tool, callId,
   * input }` comes first and the run waits; a refusal throws ApprovalRefused and the tool does
   * not run (no `tool_executing`). Approved, its `tool_executing` has that callId.
   */
  approval?: { action: string; details?: unknown };
}

/**
 * All an agent sees of the world. Every method that emits an event throws once the step is
 * aborted (cancel), so an agent that awaits them stops at its next step.
 */
export interface AgentContext {
  readonly agent: string;
  readonly step: StepInfo;
  /** The model, metered: what the agent spends is reported on agent_completed and in the job result. */
  readonly model: ModelProvider;
  /** The conversation's last messages, oldest first (not including the current question). */
  readonly history: readonly HistoryMessage[];
  /** Aborted when the run is cancelled; pass it to the model and to long tools. */
  readonly signal: AbortSignal;
  /** The run's trace level; trace fields given to the methods below are filtered by it. */
  readonly trace: TraceLevel;
  readonly resources: AgentResources;

  /** `agent_thinking`: a line of the agent's reasoning, for the user to read. */
  thinking(thought: string, trace?: TraceFields): Promise<void>;
  /** `status`: human progress text, e.g. `status('retrieving', 'Searching the knowledge base…')`. */
  status(step: string, message: string): Promise<void>;
  /**
   * Runs a tool: `tool_executing`, then `fn`, then `tool_completed` with the same callId,
   * the duration, and `ok` with the output or the error message. A throwing tool rethrows
   * as a ToolError, which the agent may catch to carry on. `fn` may report `tool_progress`
   * through `call.progress()`. A cancel ends the call at once with `tool_completed { ok:
   * false }` (whether or not `fn` heeds the signal) and throws the signal's reason.
   */
  tool<R>(name: string, input: unknown, fn: (signal: AbortSignal, call: ToolCall) => Promise<R>, opts?: ToolOptions<R>): Promise<R>;
  /**
   * The tool loop: the model answers, calling `tools` as it sees fit, several in parallel,
   * for at most `maxSteps` model calls. Every call runs through `tool()` (its approval, if the
   * tool asks for one, through `approve()`); a failed or declined call goes back to the model,
   * which carries on. Each block of the model's reasoning becomes `agent_thinking`; the text
   * streams through `onToken`. Only for models that can (`model.runTools`): else it throws.
   */
  runTools(request: AgentToolLoopRequest): Promise<ToolLoopResult>;
  /**
   * `clarification_requested`: asks the user and waits for the answer (`run:respond` with a
   * string). The run shows `waiting` meanwhile. With `choices`, an answer matching one of them
   * (case-insensitively) is returned spelled as the choice. Throws a TIMEOUT HeraldError when
   * no answer comes within HUMAN_RESPONSE_TIMEOUT_MS, and the signal's reason on cancel.
   */
  ask(question: string, choices?: readonly string[]): Promise<string>;
  /**
   * `approval_requested`: asks the user to approve `action` and waits for the decision
   * (`run:respond` with `{ approved, comment? }`). Same waiting rules as ask(). `call`: the
   * tool call that waits for it (`tool`, `callId`, `input` in the event).
   */
  approve(action: string, details: unknown, call?: { tool: string; callId: string; input: unknown }): Promise<Approval>;
  /** How far this step has got, 0..1; never goes back. */
  progress(fraction: number): void;
  /** `message_delta` and `message`: the answer itself. */
  emit<T extends 'message_delta' | 'message'>(type: T, data: EventData<T>, trace?: TraceFields): Promise<void>;
  /** Trace fields to add to this step's `agent_completed`. */
  addTrace(fields: TraceFields): void;
}
