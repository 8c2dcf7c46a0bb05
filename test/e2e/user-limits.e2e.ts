import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AgentEvent } from '@herald/contracts';
import { subjects } from '@herald/contracts';
import { connectNats, natsInboxPrefix } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { io } from 'socket.io-client';
import { Cluster, ROOT } from '../support/cluster';
import { EventCollector } from '../support/event-collector';
import { AuthNatsServer } from '../support/nats-auth';
import { NATS_USERS } from '../support/nats-conf';
import { setTimeout as sleep } from 'node:timers/promises';

/** The connection lease of apps/gateway/src/limits/connection-limiter.service.ts (CONNECTION_LEASE_MS). */
const CONNECTION_LEASE_MS = 30_000;

/**
 * Per-user limits on real processes: two gateways sharing Redis, on a NATS server that runs
 * deploy/nats/nats-server.conf (so the gateway's JetStream reads are the ones production
 * allows): connections across gateways, a killed gateway's slots, events:resume in pieces,
 * and run polling without persistence.
 */
describe('per-user limits across two gateways (real processes)', () => {
  const namespace = `e2e${randomBytes(4).toString('hex')}`;
  const s = subjects(namespace);
  let nats: AuthNatsServer;
  let cluster: Cluster;
  let persistenceSide: NatsConnection;

  beforeAll(async () => {
    nats = await AuthNatsServer.start(namespace, join(ROOT, 'test-output', 'e2e', namespace));
    cluster = await Cluster.start({
      namespace,
      natsUrl: nats.url,
      natsAuth: { user: 'gateway', pass: nats.passwords.gateway, inboxPrefix: natsInboxPrefix('gateway') },
      gateways: 2,
      env: { MAX_CONNECTIONS_PER_USER: '3', REPLAY_MAX_EVENTS: '8' },
      appEnv: Object.fromEntries(NATS_USERS.map((u) => [u, nats.envOf(u)])),
    });
    // Sees persistence's requests (a plain subscription beside the service's own).
    persistenceSide = await connectNats({
      url: nats.url,
      name: 'test-rpc-counter',
      credentials: { user: 'persistence', password: nats.passwords.persistence },
    });
  }, 90_000);

  afterAll(async () => {
    await persistenceSide?.close().catch(() => undefined);
    await cluster?.stop();
    await nats?.stop();
  }, 30_000);

  /** A handshake's outcome: 'connected', or the connect_error's data.code. */
  async function handshake(gateway: number, userId: string): Promise<string> {
    const socket = io(cluster.gatewayUrl(gateway), {
      auth: { token: await cluster.token(userId) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      return await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
      });
    } finally {
      socket.close();
    }
  }

  it('a streamed run, resumed by the typed client in pieces of REPLAY_MAX_EVENTS, arrives whole and in order', async () => {
    const watcher = new EventCollector(await cluster.client('piecemeal', 0));
    const sender = await cluster.client('piecemeal', 1);
    const ack = await sender.send('Explain how Herald resumes events after a reconnect', { stream: true });
    const full = await watcher.until(ack.runId);
    expect(full.length).toBeGreaterThan(16); // three calls at least
    sender.close();

    // By hand: the first call stops at 8 with more.
    const raw = io(cluster.gatewayUrl(1), { auth: { token: await cluster.token('piecemeal') }, transports: ['websocket'], forceNew: true });
    try {
      await new Promise((resolve) => raw.once('session:ready', resolve));
      const got: AgentEvent[] = [];
      raw.on('agent:event', (e: AgentEvent) => got.push(e));
      const first = await raw.timeout(10_000).emitWithAck('events:resume', { after: '0' });
      expect(first).toEqual({ ok: true, replayed: 8, lastId: full[7].id, more: true });
      expect(got).toEqual(full.slice(0, 8));
    } finally {
      raw.close();
    }

    // The typed client calls again while more.
    const back = await cluster.client('piecemeal', 1);
    const resumed = new EventCollector(back);
    const result = await back.resume('0');
    expect(result).toMatchObject({ replayed: full.length, lastId: full.at(-1)!.id, more: false });
    expect(resumed.events).toEqual(full);
  });

  it('answers a settled run poll 304 without a persistence call, on either gateway', async () => {
    const client = await cluster.client('poller', 0);
    const seen = new EventCollector(client);
    const ack = await client.send('What is NATS JetStream?');
    const events = await seen.until(ack.runId);
    const lastId = events.at(-1)!.id;
    // The run's row catches up with its events (the event writer is asynchronous).
    let tag = '';
    for (let i = 0; i < 100; i++) {
      const res = await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'poller' });
      const body = await res.json();
      tag = res.headers.get('etag') ?? '';
      if (body.lastEventId === lastId && body.status === 'completed') break;
      await sleep(100);
    }
    expect(tag).toMatch(new RegExp(`^"r:${ack.conversationId}:${lastId}:`));

    let runGets = 0;
    const sub = persistenceSide.subscribe(s.rpc('run.get'), { callback: () => runGets++ });
    try {
      await persistenceSide.flush();
      for (const gateway of [0, 1, 0, 1]) {
        const res = await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'poller', gateway, headers: { 'if-none-match': tag } });
        expect(res.status).toBe(304);
        expect(res.headers.get('etag')).toBe(tag);
      }
      await persistenceSide.flush();
      await sleep(100);
      expect(runGets).toBe(0);
      // Another user with that tag is asked of persistence, which knows no such run of theirs.
      expect((await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'intruder', headers: { 'if-none-match': tag } })).status).toBe(404);
    } finally {
      sub.unsubscribe();
    }
    expect(nats.violations()).toEqual([]);
  });

  it('caps connections per user across gateways, and frees a killed gateway’s slots once their lease runs out', async () => {
    const user = 'capped';
    const open = [await cluster.client(user, 0), await cluster.client(user, 1), await cluster.client(user, 1)];
    expect(open).toHaveLength(3);
    expect(await handshake(0, user)).toBe('TOO_MANY_CONNECTIONS');
    expect(await handshake(1, user)).toBe('TOO_MANY_CONNECTIONS');
    const sse = await cluster.http('/v1/events', { userId: user });
    expect(sse.status).toBe(429);
    expect(await sse.json()).toMatchObject({ error: { code: 'TOO_MANY_CONNECTIONS' } });
    expect(await handshake(0, 'someone-else')).toBe('connected');

    // Gateway 1 dies with two of the user's slots: they stay taken until their lease runs out.
    open[1].close();
    open[2].close();
    await sleep(500); // their closes might have freed the slots already: kill a gateway that still holds some
    const holders = [await cluster.client(user, 1), await cluster.client(user, 1)];
    expect(holders).toHaveLength(2);
    const killedAt = Date.now();
    await cluster.kill(cluster.gateways[1], 'SIGKILL');
    expect(await handshake(0, user)).toBe('TOO_MANY_CONNECTIONS');
    let outcome = '';
    while (Date.now() - killedAt < CONNECTION_LEASE_MS + 10_000) {
      outcome = await handshake(0, user);
      if (outcome === 'connected') break;
      await sleep(1000);
    }
    expect(outcome).toBe('connected');
    const freedAfterMs = Date.now() - killedAt;
    expect(freedAfterMs).toBeLessThanOrEqual(CONNECTION_LEASE_MS + 10_000);
    expect(freedAfterMs).toBeGreaterThan(CONNECTION_LEASE_MS - 11_000); // renewed up to 10 s before the kill
  }, 60_000);
});
