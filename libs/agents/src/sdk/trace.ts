import type { Trace, TraceLevel } from '@herald/contracts';
import type { AgentEventType } from './event-sink';

/** Trace fields an agent offers; which of them reach an event depends on the run's trace level. */
export interface TraceFields {
  /** `summary` fields (PROTOCOL.md §4). */
  latencyMs?: number;
  tokens?: number;
  costUsd?: number;
  /** Only at `full`: reasoning, prompts or queries, retrieval scores... */
  full?: Record<string, unknown>;
}

/** The events that carry a summary trace. */
const SUMMARY_EVENTS: ReadonlySet<AgentEventType> = new Set(['agent_completed', 'tool_completed']);

/**
 * The `trace` an event gets at a level: `none` → none; `summary` → `{ latencyMs, tokens?,
 * costUsd? }` on agent_completed and tool_completed only; `full` → the summary fields plus
 * the `full` ones, on any event that has some.
 */
export function traceFor(level: TraceLevel, type: AgentEventType, fields: TraceFields | undefined): Trace | undefined {
  if (level === 'none' || !fields) return undefined;
  const summary: Trace = {};
  if (fields.latencyMs !== undefined) summary.latencyMs = Math.max(0, Math.round(fields.latencyMs));
  if (fields.tokens !== undefined) summary.tokens = Math.max(0, Math.round(fields.tokens));
  if (fields.costUsd !== undefined) summary.costUsd = Math.max(0, fields.costUsd);
  if (level === 'summary') {
    return SUMMARY_EVENTS.has(type) && Object.keys(summary).length > 0 ? summary : undefined;
  }
  const trace: Trace = { ...fields.full, ...summary };
  return Object.keys(trace).length > 0 ? trace : undefined;
}

/** Merges trace fields; later values win, `full` objects are merged. */
export function mergeTraceFields(a: TraceFields, b: TraceFields): TraceFields {
  const full = a.full || b.full ? { ...a.full, ...b.full } : undefined;
  return { ...a, ...b, ...(full ? { full } : {}) };
}
