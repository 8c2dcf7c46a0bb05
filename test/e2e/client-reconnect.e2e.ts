import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import type { AgentEvent } from '@herald/contracts';
import { type ConnectionState, HeraldClient } from '@herald/client';
import { countLoss, recordScenario } from '../support/scenario-results';
import { Cluster } from '../support/cluster';
import { runViolations } from '../support/invariants';
import { storedEvents } from '../support/stored';
import { setTimeout as sleep } from 'node:timers/promises';

async function until(check: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A load balancer's view of several gateways, as a plain TCP proxy: each connection goes to
 * the first gateway in the list that accepts it, so when one dies, the next connection lands
 * on another.
 */
async function tcpProxy(backends: () => string[]): Promise<{ url: string; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.pause();
    const tryBackend = (urls: string[]) => {
      const [first, ...rest] = urls;
      if (!first) return client.destroy();
      const { hostname, port } = new URL(first);
      const upstream = tcpConnect(Number(port), hostname);
      upstream.once('error', () => (upstream.destroy(), tryBackend(rest)));
      upstream.once('connect', () => {
        open.add(upstream);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => (open.delete(upstream), client.destroy()));
        client.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryBackend(backends());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      open.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** libs/client against real gateways: reconnect with backoff, resume with dedup, token renewal. */
describe('the typed client: reconnect, resume and renewal (real processes)', () => {
  let cluster: Cluster;
  const clients: HeraldClient[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '20' } });
  }, 60_000);

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await cluster?.stop();
  }, 30_000);

  function track(client: HeraldClient) {
    clients.push(client);
    const states: ConnectionState[] = [];
    const events: AgentEvent[] = [];
    client.onStatus((s) => states.push(s.state));
    client.onEvent((e) => events.push(e));
    return { states, events };
  }

  /** A reconnecting client of `userId` at `url` whose answer has started streaming. */
  async function streamingRun(url: string, userId: string) {
    const client = new HeraldClient({ url, token: () => cluster.token(userId), reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const seen = track(client);
    const caughtUp: number[] = [];
    client.onCaughtUp((info) => caughtUp.push(info.delivered));
    await client.connect();
    const run = await client.ask('Explain how Herald replays events after a reconnect, step by step.', { stream: true });
    await until(() => seen.events.some((e) => e.type === 'message_delta'), 'the answer to start streaming');
    return { seen, caughtUp, run };
  }

  /**
   * After the kill: the run ends, the client catches up by itself (one caught-up notice) and
   * holds exactly what a fresh client replays from the start on `storedGateway`.
   */
  async function expectNothingMissed(
    userId: string,
    { seen, caughtUp, run }: Awaited<ReturnType<typeof streamingRun>>,
    killedAt: number,
    storedGateway: number,
    scenario: { scenario: string; notes: string },
  ) {
    const events = await run.done();
    await until(() => caughtUp.length === 1, 'the caught-up notice');
    const recoveryMs = Date.now() - killedAt;
    await expect(run.answer).resolves.toEqual(expect.any(String));
    expect(runViolations(events, { stream: true })).toEqual([]);
    const ids = seen.events.map((e) => BigInt(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
    const stored = await storedEvents(cluster, userId, storedGateway);
    expect(seen.events).toEqual(stored);
    expect(seen.states).toEqual(expect.arrayContaining(['connecting', 'online', 'offline', 'resuming']));
    expect(seen.states.at(-1)).toBe('online');
    recordScenario({ ...scenario, ...countLoss(stored, seen.events), recoveryMs });
  }

  it('survives its gateway crashing mid-run: reconnects, resumes, and delivers every event once', async () => {
    const ctx = await streamingRun(cluster.gatewayUrl(), 'carol');
    const gateway = cluster.gateways[0];
    const port = new URL(gateway.url!).port;
    const killedAt = Date.now();
    await cluster.kill(gateway, 'SIGKILL');
    await until(() => ctx.seen.states.includes('offline'), 'the client to notice');
    const restarted = await cluster.startService('gateway', { PORT: port });
    restarted.url = gateway.url;
    await cluster.waitReady(restarted);
    await expectNothingMissed('carol', ctx, killedAt, 1, {
      scenario: 'gateway SIGKILL mid-run (client reconnects to the restarted gateway)',
      notes: 'kill → caught up after the restart',
    });
  }, 90_000);

  it('reconnects through a load balancer to another gateway when its gateway is killed mid-run, and misses nothing', async () => {
    const first = await cluster.startService('gateway');
    const second = await cluster.startService('gateway');
    await Promise.all([cluster.waitReady(first), cluster.waitReady(second)]);
    const alive = () => [first, second].filter((g) => g.process.exitCode === null && g.process.signalCode === null).map((g) => g.url);
    const proxy = await tcpProxy(alive);
    try {
      const ctx = await streamingRun(proxy.url, 'cyd');
      const killedAt = Date.now();
      await cluster.kill(first, 'SIGKILL'); // the first in the list: the one the client is on
      await expectNothingMissed('cyd', ctx, killedAt, cluster.gateways.indexOf(second), {
        scenario: 'gateway SIGKILL mid-run (client reconnects through a load balancer to another gateway)',
        notes: 'kill → caught up on the other gateway',
      });
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it('drops what it already delivered when a resume replays it', async () => {
    const client = new HeraldClient({ url: cluster.gatewayUrl(), token: await cluster.token('dave') });
    const seen = track(client);
    await client.connect();
    const run = await client.ask('What is JetStream?');
    await run.done();
    const delivered = seen.events.length;
    const result = await client.resume('0');
    expect(result.replayed).toBeGreaterThanOrEqual(run.events.length);
    expect(result.delivered).toBe(0);
    expect(seen.events.length).toBe(delivered);
  });

  it('asks its token provider for a fresh token after session:expired, and goes on', async () => {
    let issued = 0;
    const client = new HeraldClient({
      url: cluster.gatewayUrl(),
      token: () => (issued++ === 0 ? cluster.token('erin', 2) : cluster.token('erin', 3600)),
      reconnect: { initialDelayMs: 50 },
    });
    const seen = track(client);
    await client.connect();
    await until(() => seen.states.includes('offline'), 'the session to expire', 15_000);
    await until(() => client.status.state === 'online', 'the renewed session');
    expect(issued).toBeGreaterThanOrEqual(2);
    const run = await client.ask('Hello again');
    await expect(run.answer).resolves.toEqual(expect.any(String));
  });

  it('closes with the reason when a fixed token expires', async () => {
    const client = new HeraldClient({ url: cluster.gatewayUrl(), token: await cluster.token('frank', 2) });
    track(client);
    await client.connect();
    await until(() => client.status.state === 'closed', 'the session to end', 15_000);
    expect(client.status.reason).toBe('session_expired');
  });

  it('rejects connect() with the server’s refusal', async () => {
    const client = new HeraldClient({ url: cluster.gatewayUrl(), token: 'not-a-jwt' });
    clients.push(client);
    await expect(client.connect()).rejects.toMatchObject({ message: 'unauthorized', data: { code: 'UNAUTHORIZED' } });
    expect(client.status).toMatchObject({ state: 'closed', reason: 'unauthorized' });
  });
});
