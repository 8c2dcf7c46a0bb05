import { Cluster } from './support/cluster';

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
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/^process_cpu_seconds_total /m);
      expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds /m);
    }
  });

  it('a service that is stopping says draining, then goes away', async () => {
    const extra = await cluster.startService('worker');
    await cluster.waitReady(extra);
    extra.process.kill('SIGTERM');
    await extra.exited;
    await expect(fetch(`${extra.url}/health/live`)).rejects.toThrow();
  });
});
