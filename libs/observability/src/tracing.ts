import {
  type Attributes,
  diag,
  DiagLogLevel,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { HeraldError } from '@herald/contracts';
import type { Logger } from './logger';
import { childSpan, formatTraceparent, parseTraceparent, type TraceContext } from './trace-context';

export { SpanKind };

/** Attributes Herald puts on its spans: identifiers only, never user content, never tokens. */
export interface HeraldSpanAttributes {
  runId?: string;
  conversationId?: string;
  agent?: string;
  step?: number;
}

/**
 * One unit of work in a run's trace: a real OpenTelemetry span when a tracer provider is
 * registered (initTracing with OTEL_EXPORTER_OTLP_ENDPOINT), otherwise a no-op span that
 * still has ids of its own, so `traceparent` propagates exactly as it does with export on.
 */
export interface TracedSpan extends TraceContext {
  /** W3C traceparent of this span: what its children (NATS headers, job data, events) carry. */
  readonly traceparent: string;
  /** Adds attributes known only once the work is under way (a run's id once it is admitted). */
  setAttributes(attributes: HeraldSpanAttributes): void;
  /** Ends the span; with `err`, with status error (its code or class only, never its message). */
  end(err?: unknown): void;
  /** Ends the span without error, recording why (e.g. `cancelled`). */
  endWith(outcome: string): void;
}

let provider: BasicTracerProvider | undefined;

/**
 * Registers the service's tracer provider, once per process, when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * is set: spans are batched (the SDK's `OTEL_BSP_*` variables apply) and exported over
 * OTLP/HTTP (JSON) to `<endpoint>/v1/traces`, as `service.name` = `service`. Unset: nothing is
 * registered, the API's tracer is the no-op one. Returns whether spans are exported.
 */
export function initTracing(service: string, config: { OTEL_EXPORTER_OTLP_ENDPOINT?: string }, logger?: Logger): boolean {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || provider) return provider !== undefined;
  const url = new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).toString();
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  trace.setGlobalTracerProvider(provider);
  if (logger) {
    // The SDK's own trouble (an export that failed, a full queue) in the service's log.
    const warn = (msg: string, ...args: unknown[]) => logger.warn({ otel: args.map(String) }, `opentelemetry: ${msg}`);
    diag.setLogger({ error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
    logger.info({ url }, 'exporting spans over OTLP');
  }
  return true;
}

/** Exports the spans still batched and unregisters the provider (a no-op when none is registered). */
export async function shutdownTracing(): Promise<void> {
  const current = provider;
  if (!current) return;
  provider = undefined;
  trace.disable();
  diag.disable();
  await current.shutdown().catch(() => undefined);
}

/**
 * Starts a span: the child of `parent` (a W3C traceparent), or the root of a new trace. The
 * caller passes it on by its `traceparent` and ends it.
 */
export function startSpan(name: string, opts: { parent?: string; kind?: SpanKind; attributes?: HeraldSpanAttributes } = {}): TracedSpan {
  const parent = parseTraceparent(opts.parent);
  const ctx = parent
    ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: true,
      })
    : ROOT_CONTEXT;
  const span = trace.getTracer('herald').startSpan(name, { kind: opts.kind, attributes: toAttributes(opts.attributes) }, ctx);
  const sc = span.spanContext();
  // The no-op tracer hands back the parent's context (or an invalid one for a root): the span
  // still gets ids of its own, as a real one would.
  const ids: TraceContext =
    isSpanContextValid(sc) && sc.spanId !== parent?.spanId
      ? { traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED }
      : childSpan(parent);
  return {
    ...ids,
    traceparent: formatTraceparent(ids),
    setAttributes: (attributes) => span.setAttributes(toAttributes(attributes)),
    end: (err) => endSpan(span, err),
    endWith: (outcome) => endSpan(span, undefined, outcome),
  };
}

function endSpan(span: Span, err?: unknown, outcome?: string): void {
  if (err !== undefined) {
    const label = HeraldError.is(err) ? err.code : err instanceof Error ? err.constructor.name : 'Error';
    span.setStatus({ code: SpanStatusCode.ERROR, message: label });
    span.setAttribute('herald.outcome', 'error');
  } else {
    span.setAttribute('herald.outcome', outcome ?? 'ok');
  }
  span.end();
}

function toAttributes(a: HeraldSpanAttributes = {}): Attributes {
  const attributes: Attributes = {};
  if (a.runId !== undefined) attributes['herald.run_id'] = a.runId;
  if (a.conversationId !== undefined) attributes['herald.conversation_id'] = a.conversationId;
  if (a.agent !== undefined) attributes['herald.agent'] = a.agent;
  if (a.step !== undefined) attributes['herald.step'] = a.step;
  return attributes;
}
