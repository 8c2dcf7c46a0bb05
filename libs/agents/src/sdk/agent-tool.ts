import type { TraceFields } from './trace';

/** What a running tool call may use: the step's abort signal, its call id, and progress reports. */
export interface ToolCall {
  /** Aborted when the run is cancelled: pass it on (an MCP request sends `notifications/cancelled`). */
  readonly signal: AbortSignal;
  readonly callId: string;
  /**
   * `tool_progress { progress, total?, message? }` for this call: `progress` of `total` when
   * known (MCP progress notifications). A value not above the last one is ignored, and so is
   * anything once the call has completed.
   */
  progress(progress: number, total?: number, message?: string): void;
}

/**
 * A tool a model may pick in a tool loop (`ctx.runTools`): the built-in ones
 * (`knowledge_search`, `schema_lookup`, `sql_query`) and those of MCP servers
 * (`<server>.<tool>`). Every call runs through `ctx.tool()`, so it streams `tool_executing`,
 * `tool_progress` and `tool_completed` like any other.
 */
export interface AgentTool<I = unknown, O = unknown> {
  /** The name events show (`tool`), e.g. `knowledge_search` or `files.read_file`. */
  readonly name: string;
  /** What the model reads to decide when to call it. */
  readonly description: string;
  /** JSON Schema of the input (an object): what the model must send. */
  readonly inputSchema: Record<string, unknown>;
  /**
   * The call needs the user's approval first: `approval_requested { action, details, tool,
   * callId, input }`, then the call runs only if the user approves. Undefined: no approval.
   */
  approval?(input: I): { action: string; details?: unknown } | undefined;
  /** Runs one call. The input is what the model sent: check it. A throw is a failed call (ok: false). */
  run(input: I, call: ToolCall): Promise<O>;
  /** What `tool_completed.output` shows (default: the result). */
  output?(result: O): unknown;
  /** What the model gets back (default: the result). */
  forModel?(result: O): unknown;
  /** Extra trace fields for `tool_completed`. */
  trace?(result: O): TraceFields;
}

export type AnyAgentTool = AgentTool<any, any>;

const MODEL_NAME_RE = /^[\w-]{1,64}$/;

/**
 * The names the model calls the tools by: the tool's own name where every provider accepts
 * it (letters, digits, `_`, `-`, at most 64), else with every other character made `_`
 * (`files.read_file` → `files_read_file`), cut to 64, and numbered when two would clash.
 */
export function modelToolNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = MODEL_NAME_RE.test(name) ? name : name.replace(/[^\w-]/g, '_').slice(0, 64) || 'tool';
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) candidate = `${base.slice(0, 60)}_${n}`;
    taken.add(candidate);
    return candidate;
  });
}
