import type { AgentEvent } from '@herald/contracts';
import { type ConnectionState, HeraldClient } from '@herald/client';
import { Cluster, sleep } from './support/cluster';
import { runViolations } from './support/invariants';

async function until(check: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** libs/client against real gateways: reconnect with backoff, resume with dedup, token renewal. */
describe('the typed client: reconnect, resume and renewal (real processes)', () => {
  let cluster: Cluster;
  const clients: HeraldClient[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 1, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '20' } });
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

  it('survives its gateway crashing mid-run: reconnects, resumes, and delivers every event once', async () => {
    const client = new HeraldClient({
      url: cluster.gatewayUrl(),
      token: () => cluster.token('carol'),
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    });
    const seen = track(client);
    const caughtUp: number[] = [];
    client.onCaughtUp((info) => caughtUp.push(info.delivered));
    await client.connect();
    const run = await client.ask('Explain how Herald replays events after a reconnect, step by step.', { stream: true });
    await until(() => seen.events.some((e) => e.type === 'message_delta'), 'the answer to start streaming');

    const gateway = cluster.gateways[0];
    const port = new URL(gateway.url!).port;
    await cluster.kill(gateway, 'SIGKILL');
    await until(() => client.status.state === 'offline', 'the client to notice');
    const restarted = await cluster.startService('gateway', { PORT: port });
    restarted.url = gateway.url;
    await cluster.waitReady(restarted);

    const events = await run.done();
    await expect(run.answer).resolves.toEqual(expect.any(String));
    expect(runViolations(events, { stream: true })).toEqual([]);
    const ids = seen.events.map((e) => BigInt(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
    await until(() => caughtUp.length === 1, 'the caught-up notice');
    expect(seen.states).toEqual(expect.arrayContaining(['connecting', 'online', 'offline', 'resuming']));
    expect(seen.states.at(-1)).toBe('online');
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
