import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ErrorCode, HeraldError } from '@herald/contracts';
import { parseTraceparent } from './trace-context';
import { initTracing, shutdownTracing, SpanKind, startSpan } from './tracing';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing', () => {
  it('exports nothing and registers nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    expect(initTracing('worker', {})).toBe(false);
    expect(startSpan('x').traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await shutdownTracing();
  });

  describe('without a tracer provider (the no-op tracer)', () => {
    it('a root span still starts a new trace, with ids of its own', () => {
      const a = startSpan('chat:send');
      const b = startSpan('chat:send');
      expect(parseTraceparent(a.traceparent)).toEqual({ traceId: a.traceId, spanId: a.spanId, sampled: true });
      expect(a.traceId).not.toBe(b.traceId);
      a.end();
      b.end(new Error('ended twice is harmless'));
    });

    it('a child continues the parent trace with a new span id', () => {
      const child = startSpan('run', { parent: PARENT });
      expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(child.spanId).not.toBe('00f067aa0ba902b7');
      const grandchild = startSpan('step triage', { parent: child.traceparent });
      expect(grandchild.traceId).toBe(child.traceId);
      expect(grandchild.spanId).not.toBe(child.spanId);
    });
  });

  describe('with a tracer provider', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

    beforeAll(() => trace.setGlobalTracerProvider(provider));
    afterAll(async () => {
      trace.disable();
      await provider.shutdown();
    });
    beforeEach(() => exporter.reset());

    it('records real spans: parent, kind, attributes; traceparent is the span context', () => {
      const run = startSpan('run', { parent: PARENT, kind: SpanKind.CONSUMER, attributes: { runId: 'r1', conversationId: 'c1' } });
      const step = startSpan('step knowledge', { parent: run.traceparent, attributes: { runId: 'r1', agent: 'knowledge', step: 1 } });
      step.endWith('completed');
      run.setAttributes({ agent: 'reporting' });
      run.end();

      const [stepSpan, runSpan] = exporter.getFinishedSpans();
      expect(runSpan.name).toBe('run');
      expect(runSpan.kind).toBe(SpanKind.CONSUMER);
      expect(runSpan.spanContext()).toMatchObject({ traceId: run.traceId, spanId: run.spanId });
      expect(runSpan.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
      expect(runSpan.attributes).toEqual({
        'herald.run_id': 'r1',
        'herald.conversation_id': 'c1',
        'herald.agent': 'reporting',
        'herald.outcome': 'ok',
      });
      expect(stepSpan.name).toBe('step knowledge');
      expect(stepSpan.parentSpanContext?.spanId).toBe(run.spanId);
      expect(stepSpan.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(stepSpan.attributes).toMatchObject({ 'herald.agent': 'knowledge', 'herald.step': 1, 'herald.outcome': 'completed' });
      expect(stepSpan.status.code).toBe(SpanStatusCode.UNSET);
    });

    it('a root span has no parent', () => {
      const root = startSpan('chat:send', { kind: SpanKind.SERVER });
      root.end();
      const [span] = exporter.getFinishedSpans();
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).toBe(root.traceId);
    });

    it('ends with status error naming the code or the class, never the message', () => {
      startSpan('a').end(new HeraldError(ErrorCode.UNAVAILABLE, 'secret detail'));
      class StepTimeout extends Error {}
      startSpan('b').end(new StepTimeout('what the user asked'));
      const [a, b] = exporter.getFinishedSpans();
      expect(a.status).toEqual({ code: SpanStatusCode.ERROR, message: 'UNAVAILABLE' });
      expect(b.status).toEqual({ code: SpanStatusCode.ERROR, message: 'StepTimeout' });
      expect(b.attributes['herald.outcome']).toBe('error');
      expect(JSON.stringify([a.attributes, b.attributes, a.events, b.events])).not.toMatch(/secret|asked/);
    });
  });
});
