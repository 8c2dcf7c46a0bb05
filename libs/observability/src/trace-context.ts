import { randomBytes } from 'node:crypto';
import { defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

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

/** OpenTelemetry's own reader and writer of the header: versions, flags and invalid ids as the spec says. */
const propagator = new W3CTraceContextPropagator();

export function parseTraceparent(value: string | undefined | null): TraceContext | undefined {
  if (!value) return undefined;
  const sc = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { traceparent: value }, defaultTextMapGetter));
  if (!sc || !isSpanContextValid(sc)) return undefined;
  return { traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED };
}

export function formatTraceparent(ctx: TraceContext): string {
  const carrier: { traceparent?: string } = {};
  const spanContext = { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: ctx.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
  if (!carrier.traceparent) throw new Error(`not a valid trace context: ${ctx.traceId}/${ctx.spanId}`);
  return carrier.traceparent;
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
