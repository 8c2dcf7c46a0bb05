import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Cluster } from '../support/cluster';
import { eventTraceparents } from '../support/stored';
import { setTimeout as sleep } from 'node:timers/promises';

/** A span as OTLP/HTTP JSON carries it, with the service.name of the resource it came from. */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
}

type KeyValue = { key: string; value: Record<string, unknown> };
const valueOf = (v: Record<string, unknown>) => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
const attributesOf = (kvs: KeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, valueOf(kv.value)]));

/**
 * A tiny OpenTelemetry collector: accepts OTLP/HTTP JSON on POST /v1/traces (what
 * @opentelemetry/exporter-trace-otlp-http sends) and keeps every span and every raw body.
 */
class OtlpReceiver {
  readonly spans: ExportedSpan[] = [];
  readonly bodies: string[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
          res.writeHead(404).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        receiver.accept(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private accept(body: string) {
    this.bodies.push(body);
    for (const rs of JSON.parse(body).resourceSpans ?? []) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name']);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            attributes: attributesOf(s.attributes),
            status: s.status,
          });
        }
      }
    }
  }

  /** The spans of one trace, once `ready` says everything expected has arrived. */
  async waitFor(ready: (spans: ExportedSpan[]) => boolean, timeoutMs = 15_000): Promise<ExportedSpan[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (ready(this.spans)) return this.spans;
      await sleep(50);
    }
    throw new Error(`spans did not arrive; have: ${this.spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The spans of a run: the orchestrator's run span (by herald.run_id) and everything in its trace. */
function runTrace(spans: ExportedSpan[], runId: string) {
  const run = spans.find((s) => s.service === 'orchestrator' && s.name === 'run' && s.attributes['herald.run_id'] === runId);
  return { run, trace: run ? spans.filter((s) => s.traceId === run.traceId) : [] };
}

/** The run has ended and the spans of the gateway, the run, every step and every job have arrived. */
function complete(spans: ExportedSpan[], runId: string): boolean {
  const { run, trace } = runTrace(spans, runId);
  if (!run) return false;
  const steps = trace.filter((s) => s.name.startsWith('step '));
  const jobs = trace.filter((s) => s.service === 'worker');
  const reads = trace.filter((s) => s.service === 'persistence');
  return trace.some((s) => s.name === 'chat:send') && steps.length >= 2 && jobs.length >= steps.length && reads.length >= 3;
}

describe('tracing: one run is one OpenTelemetry trace, exported over OTLP (real processes)', () => {
  let receiver: OtlpReceiver;
  let cluster: Cluster;
  // Text no span may carry: a question's content is the user's, never telemetry.
  const canary = `tracing-canary-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    cluster = await Cluster.start({
      gateways: 2,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
  }, 30_000);

  it('exports the spans of gateway, orchestrator, persistence and worker in one trace: chat:send → run → step <agent> → agent <agent>', async () => {
    const client = await cluster.client('traced', 1);
    const run = await client.ask(`What is JetStream? ${canary}`);
    await run.done();
    await receiver.waitFor((spans) => complete(spans, run.runId));
    const { run: runSpan, trace } = runTrace(receiver.spans, run.runId);

    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['gateway', 'orchestrator', 'persistence', 'worker']));
    expect(trace.every((s) => /^[0-9a-f]{32}$/.test(s.traceId) && /^[0-9a-f]{16}$/.test(s.spanId))).toBe(true);
    // Every span of this run is in the run's trace: nothing of it went to another trace.
    const ofRun = receiver.spans.filter((s) => s.attributes['herald.run_id'] === run.runId);
    expect(new Set(ofRun.map((s) => s.traceId))).toEqual(new Set([runSpan!.traceId]));

    // The gateway's span is the root; the run span is its child.
    const send = trace.find((s) => s.service === 'gateway' && s.name === 'chat:send')!;
    expect(send.parentSpanId).toBeUndefined();
    expect(send.attributes).toMatchObject({ 'herald.run_id': run.runId, 'herald.conversation_id': run.ack.conversationId });
    expect(runSpan!.parentSpanId).toBe(send.spanId);
    expect(runSpan!.attributes).toMatchObject({ 'herald.conversation_id': run.ack.conversationId, 'herald.outcome': 'completed' });

    // Persistence answers the gateway's admission in a child of chat:send, the run's reads in children of the run.
    const reads = trace.filter((s) => s.service === 'persistence');
    expect(reads.map((s) => [s.name, s.parentSpanId]).sort()).toEqual(
      [
        ['rpc conversation.history', runSpan!.spanId],
        ['rpc run.admit', send.spanId],
        ['rpc run.get', runSpan!.spanId],
      ].sort(),
    );
    expect(reads.every((s) => s.attributes['herald.outcome'] === 'ok')).toBe(true);

    // Each step is a child of the run; each worker job a child of its step, for the same agent.
    const steps = trace.filter((s) => s.service === 'orchestrator' && s.name.startsWith('step '));
    expect(steps.map((s) => s.name)).toEqual(expect.arrayContaining(['step triage', 'step reporting']));
    for (const step of steps) {
      expect({ step: step.name, parent: step.parentSpanId }).toEqual({ step: step.name, parent: runSpan!.spanId });
      expect(step.name).toBe(`step ${step.attributes['herald.agent']}`);
    }
    const jobs = trace.filter((s) => s.service === 'worker');
    expect(jobs.length).toBe(steps.length);
    for (const job of jobs) {
      const step = steps.find((s) => s.spanId === job.parentSpanId);
      expect({ job: job.name, step: step?.name }).toEqual({ job: job.name, step: `step ${job.attributes['herald.agent']}` });
      expect(job.name).toBe(`agent ${job.attributes['herald.agent']}`);
      expect(job.attributes).toMatchObject({ 'herald.run_id': run.runId, 'herald.outcome': 'completed' });
      expect(job.status?.code ?? 0).not.toBe(2); // SpanStatusCode.ERROR
    }

    // Every event of the run carries the span that published it: the run's, or a worker job's.
    const published = await eventTraceparents(cluster, run.ack.conversationId, run.runId);
    expect(published.length).toBeGreaterThan(5);
    const publishers = new Set([runSpan!.spanId, ...jobs.map((j) => j.spanId)]);
    expect(published.filter((t) => t?.traceId !== runSpan!.traceId || !publishers.has(t.spanId))).toEqual([]);
    expect(new Set(published.map((t) => t!.spanId))).toEqual(publishers);

    // No span carries the question (nor any other user content): not in a name, an attribute, a status.
    expect(receiver.bodies.some((b) => b.includes(canary))).toBe(false);
  });

  it('continues the trace of an HTTP caller that sends a traceparent header', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const res = await cluster.http('/v1/conversations/new/messages', {
      method: 'POST',
      userId: 'traced-http',
      gateway: 0,
      headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ content: `Hello there ${canary}` }),
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    await receiver.waitFor((spans) => complete(spans, runId), 30_000);
    const { run: runSpan, trace } = runTrace(receiver.spans, runId);

    expect(runSpan!.traceId).toBe(traceId);
    const send = trace.find((s) => s.name === 'chat:send')!;
    expect(send.parentSpanId).toBe(callerSpan);
    expect(runSpan!.parentSpanId).toBe(send.spanId);
    expect(receiver.bodies.some((b) => b.includes(canary))).toBe(false);
  });
});

describe('tracing: a stopping service sends the spans it still holds (real processes)', () => {
  it('flushes on SIGTERM: with a batch delay far longer than the test, the spans arrive as the services stop', async () => {
    const receiver = await OtlpReceiver.start();
    const cluster = await Cluster.start({
      gateways: 1,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '600000' },
    });
    let stopped = false;
    try {
      const client = await cluster.client('flushed');
      const run = await client.ask('What is JetStream?');
      await run.done();
      await sleep(500);
      expect(receiver.spans).toEqual([]);
      stopped = true;
      await cluster.stop();
      expect(complete(receiver.spans, run.runId)).toBe(true);
    } finally {
      if (!stopped) await cluster.stop();
      await receiver.close();
    }
  }, 60_000);
});
