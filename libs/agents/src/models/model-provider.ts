import type { DataOutput, HistoryMessage, Intent } from '@herald/contracts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A retrieved passage the answer should be grounded in; cited as [1], [2]… in this order. */
export interface GroundingDocument {
  id: string;
  title: string;
  content: string;
}

export interface ModelUsage {
  promptTokens: number;
  completionTokens: number;
  costUsd?: number;
}

/** One streamed piece of a completion. */
export interface TokenChunk {
  delta: string;
  /** 0-based position of this chunk in the completion. */
  index: number;
  /** Share of the completion produced so far (0..1), when the provider knows the length. */
  fraction?: number;
}

export interface CompletionRequest {
  system?: string;
  /** The conversation so far, oldest first; the last one is what to answer. */
  messages: ChatMessage[];
  documents?: GroundingDocument[];
  /** A data agent's result the answer should present (its table is in the message metadata too). */
  data?: DataOutput;
  /** Aborting stops the completion promptly: the promise rejects with the signal's reason. */
  signal: AbortSignal;
  /** Called once per token, in order; the deltas concatenate exactly to `text`. Awaited. */
  onToken?: (chunk: TokenChunk) => void | Promise<void>;
  maxTokens?: number;
}

export interface CompletionResult {
  text: string;
  usage: ModelUsage;
  /** Which model produced it, e.g. `local` or the endpoint's model name. */
  model: string;
}

export interface IntentRequest {
  text: string;
  history?: readonly HistoryMessage[];
  signal: AbortSignal;
}

export interface IntentResult {
  intent: Intent;
  /** 0..1 */
  confidence: number;
  /** One or two sentences a user can read: why this intent. */
  reasoning: string;
  usage: ModelUsage;
}

export interface SqlRequest {
  question: string;
  /** The tables and columns it may use (describeDemoSchema()). */
  schema: string;
  /** Earlier tries of this question and why each was refused, oldest first: fix them. */
  attempts?: ReadonlyArray<{ sql: string; error: string }>;
  signal: AbortSignal;
}

export interface SqlResult {
  /** One SELECT statement; absent when the question needs a clarification first. */
  sql?: string;
  /** What the result shows, in a line ("Revenue by region in 2025"). */
  title: string;
  /** 0..1 */
  confidence: number;
  reasoning: string;
  /** Ask this before generating (the question is ambiguous). */
  clarification?: { question: string; choices?: string[] };
  usage: ModelUsage;
}

/** A tool the model may call in a tool loop. */
export interface ModelTool {
  /** What the model calls it: letters, digits, `_` and `-`, at most 64 (what every provider accepts). */
  name: string;
  description: string;
  /** JSON Schema of its input (an object). */
  inputSchema: Record<string, unknown>;
  /**
   * Runs one call. What it resolves with goes back to the model (as JSON); what it throws goes
   * back as the error's message, and the loop goes on. Calls of one turn may run in parallel.
   */
  execute(input: unknown, call: { toolCallId: string; signal: AbortSignal }): Promise<unknown>;
}

/** A completion in which the model may call tools, see their results and go on, up to `maxSteps` model calls. */
export interface ToolLoopRequest extends CompletionRequest {
  tools: readonly ModelTool[];
  /** Model calls at most (default: the provider's, LLM_MAX_STEPS); the last one may not call tools. */
  maxSteps?: number;
  /** Called with each block of reasoning the model streams (`reasoning_content`), once it is complete. */
  onReasoning?: (thought: string) => void | Promise<void>;
}

export interface ToolLoopResult extends CompletionResult {
  /** Model calls made. */
  steps: number;
}

/**
 * What agents call a model through. The local engine implements it without network or
 * weights; LlmProvider implements it with the Vercel AI SDK against an OpenAI-compatible
 * endpoint, OpenAI or Anthropic (documents become part of the system prompt, intent and SQL
 * forced tool calls).
 */
export interface ModelProvider {
  readonly name: string;
  /**
   * The same request always gives the same text (the local engine). A retried step of a
   * non-deterministic model must not re-publish under the same event ids: see JobEventSink.
   */
  readonly deterministic: boolean;
  complete(request: CompletionRequest): Promise<CompletionResult>;
  classifyIntent(request: IntentRequest): Promise<IntentResult>;
  /** Text to SQL over the given schema (the data agent validates and runs it). */
  generateSql(request: SqlRequest): Promise<SqlResult>;
  /**
   * The tool loop: the model answers, calling tools as it sees fit. Only real models have it
   * (the local engine does not: its agents follow their fixed plan). The text of every step
   * is streamed through `onToken` and returned, joined.
   */
  runTools?(request: ToolLoopRequest): Promise<ToolLoopResult>;
}
