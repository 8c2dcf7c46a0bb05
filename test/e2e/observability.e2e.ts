import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { Cluster } from '../support/cluster';
import { eventTraceparents } from '../support/stored';
import { setTimeout as sleep } from 'node:timers/promises';

describe('health and metrics of every service (real processes)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 1 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it('each app answers /health/live, /health/ready with its dependencies, and /metrics', async () => {
    const expected: Record<string, string[]> = {
      gateway: ['nats', 'redis', 'postgres'],
      orchestrator: ['nats', 'redis', 'bullmq_redis'],
      worker: ['nats', 'redis', 'bullmq_redis'],
      persistence: ['nats', 'postgres'],
    };
    for (const service of cluster.services) {
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      const ready = await fetch(`${service.url}/health/ready`);
      expect({ service: service.name, status: ready.status }).toEqual({ service: service.name, status: 200 });
      const body = await ready.json();
      expect(body.status).toBe('ready');
      expect(Object.keys(body.checks).sort()).toEqual([...expected[service.app]].sort());
      const metrics = await (await fetch(service.metricsUrl)).text();
      expect(metrics).toMatch(/^process_cpu_seconds_total /m);
      expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds /m);
    }
  });

  it('counts what each service did for a run: relayed events and latency, runs, jobs, queue depth, events written', async () => {
    const client = await cluster.client('metered');
    await (await client.ask('What is JetStream?')).done();
    await sleep(500); // the event writer's batch
    const text = async (app: string) => (await fetch(cluster.services.find((s) => s.app === app)!.metricsUrl)).text();
    const value = (metrics: string, pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? NaN);
    const gateway = await text('gateway');
    expect(value(gateway, /^herald_gateway_events_relayed_total\{type="orchestration_completed"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(gateway, /^herald_gateway_relay_latency_seconds_count (\d+)/m)).toBeGreaterThan(5);
    expect(gateway).toMatch(/^herald_nats_status_changes_total|^# HELP herald_nats_status_changes_total/m);
    const orchestrator = await text('orchestrator');
    expect(value(orchestrator, /^herald_runs_total\{outcome="orchestration_completed"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(orchestrator, /^herald_run_duration_seconds_count\{outcome="orchestration_completed"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    const worker = await text('worker');
    expect(value(worker, /^herald_agent_jobs_total\{agent="reporting",outcome="completed"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(worker, /^herald_agent_queue_jobs\{state="waiting"\} (\d+)/m)).toBe(0);
    const persistence = await text('persistence');
    expect(value(persistence, /^herald_events_written_total (\d+)/m)).toBeGreaterThan(5);
    // Broker and database trouble, counted where it happens (none here, but declared for scraping).
    for (const metrics of [gateway, orchestrator, worker]) {
      expect(metrics).toMatch(/^# HELP herald_redis_connection_events_total /m);
    }
    expect(persistence).toMatch(/^# HELP herald_db_errors_total /m);
  });

  it('a service that is stopping says draining, then goes away', async () => {
    const extra = await cluster.startService('worker');
    await cluster.waitReady(extra);
    extra.process.kill('SIGTERM');
    await extra.exited;
    await expect(fetch(`${extra.url}/health/live`)).rejects.toThrow();
  });

  it('makes one run one trace: the same trace id on every event, spans per service, in the logs', async () => {
    const client = await cluster.client('traced');
    const run = await client.ask('What is JetStream?');
    await run.done();

    const traces = await eventTraceparents(cluster, run.ack.conversationId, run.runId);
    expect(traces.length).toBeGreaterThan(5);
    expect(traces.every((t) => t !== undefined)).toBe(true);
    const traceIds = new Set(traces.map((t) => t!.traceId));
    expect(traceIds.size).toBe(1);
    // The events' publishers: the run's span and each worker job's (triage, knowledge, reporting).
    expect(new Set(traces.map((t) => t!.spanId)).size).toBeGreaterThanOrEqual(4);

    // The gateway's, the orchestrator's and the worker's log lines for this run carry the
    // same trace id, and who and where it was: the user and the conversation.
    const [traceId] = traceIds;
    await sleep(200);
    for (const name of ['gateway-0', 'orchestrator-0', 'worker-0']) {
      const log = readFileSync(join(cluster.logDir, `${name}.log`), 'utf8');
      const lines = log
        .split('\n')
        .filter((l) => l.includes(run.runId))
        .map((l) => JSON.parse(l));
      const traced = lines.filter((l) => l.traceId === traceId);
      expect({ name, traced: traced.length > 0 }).toEqual({ name, traced: true });
      for (const line of traced) {
        expect({ name, msg: line.msg, userId: line.userId, conversationId: line.conversationId }).toEqual({
          name,
          msg: line.msg,
          userId: 'traced',
          conversationId: run.ack.conversationId,
        });
      }
    }
  });

  it('writes no token to any log: no JWT in any line of any service', async () => {
    // Besides the sign-ins of the tests above, the ways a token arrives: a Bearer header,
    // SSE's ?token=, a refused token (wrong secret) over HTTP and in a socket handshake.
    expect((await cluster.http('/v1/conversations', { userId: 'redacted' })).status).toBe(200);
    const forged = await cluster.token('redacted', 3600, { secret: 'not-the-secret-of-this-cluster-0123456789' });
    const refused = await fetch(`${cluster.gatewayUrl()}/v1/conversations`, { headers: { authorization: `Bearer ${forged}` } });
    expect(refused.status).toBe(401);
    const sse = new AbortController();
    const stream = await fetch(`${cluster.gatewayUrl()}/v1/events?token=${await cluster.token('redacted')}`, { signal: sse.signal });
    expect(stream.status).toBe(200);
    await stream.body!.getReader().read();
    sse.abort();
    const socket = io(cluster.gatewayUrl(), { auth: { token: forged }, transports: ['websocket'], reconnection: false });
    await new Promise((resolve) => socket.once('connect_error', resolve));
    socket.close();
    await sleep(300);

    const files = readdirSync(cluster.logDir).filter((f) => f.endsWith('.log'));
    expect(files.length).toBeGreaterThanOrEqual(cluster.services.length);
    for (const file of files) {
      const log = readFileSync(join(cluster.logDir, file), 'utf8');
      expect({ file, jwt: log.includes('eyJ') }).toEqual({ file, jwt: false });
    }
  });
});
