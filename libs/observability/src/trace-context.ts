import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (`traceparent`), the format OpenTelemetry propagates: one run is one
 * trace, carried from the gateway through NATS headers and BullMQ job data to the worker
 * and onto every event it publishes, and written into every log line as `traceId`.
 */
export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function parseTraceparent(value: string | undefined | null): TraceContext | undefined {
  const m = value ? TRACEPARENT_RE.exec(value.trim().toLowerCase()) : null;
  if (!m || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1], spanId: m[2], sampled: (parseInt(m[3], 16) & 1) === 1 };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

/** A new span in the trace of `parent` (a `traceparent` string or context), or the root of a new trace. */
export function childSpan(parent?: TraceContext | string): TraceContext {
  const ctx = typeof parent === 'string' ? parseTraceparent(parent) : parent;
  return {
    traceId: ctx?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    sampled: ctx?.sampled ?? true,
  };
}
