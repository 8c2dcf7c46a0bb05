import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentJob, PERSISTENCE_RPC, subjects } from '@herald/contracts';
import { connectNats, NatsAuthError, natsInboxPrefix } from '@herald/messaging';
import { connect, type NatsConnection, NatsError, type Status } from 'nats';
import { EarlierAttempts } from '../../apps/worker/src/jobs/earlier-attempts.service';
import { Cluster, ROOT } from '../support/cluster';
import { EventCollector } from '../support/event-collector';
import { runViolations } from '../support/invariants';
import { AuthNatsServer } from '../support/nats-auth';
import { NATS_USERS, type NatsUser } from '../support/nats-conf';
import { waitFor } from '../support/polling';

/**
 * The whole pipeline on a nats-server of the test's own that runs deploy/nats/nats-server.conf
 * (rendered for this cluster's namespace, as its header says to do for another
 * HERALD_NAMESPACE), each service logged in as its own user: a run completes with no subject
 * refused; a client without credentials is not let in; a worker cannot listen to live events
 * nor read conversations; a service NATS stops accepting stops with a fatal log.
 */
const WEBHOOKS_ON = {
  WEBHOOK_URLS: 'http://127.0.0.1:9/hook',
  WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
  WEBHOOK_ALLOW_PRIVATE: 'true',
};

describe('NATS credentials and per-service permissions (deploy/nats/nats-server.conf)', () => {
  const namespace = `e2e${randomBytes(4).toString('hex')}`;
  const s = subjects(namespace);
  let nats: AuthNatsServer;
  let cluster: Cluster;
  const opened: NatsConnection[] = [];

  /** A connection as one of the services' users, the way the services open theirs. */
  async function as(user: NatsUser, password = nats.passwords[user]): Promise<NatsConnection> {
    const nc = await connectNats({ url: nats.url, name: `test-${user}`, credentials: { user, password } });
    opened.push(nc);
    return nc;
  }

  beforeAll(async () => {
    nats = await AuthNatsServer.start(namespace, join(ROOT, 'test-output', 'e2e', namespace));
    cluster = await Cluster.start({
      namespace,
      natsUrl: nats.url,
      natsAuth: { user: 'gateway', pass: nats.passwords.gateway, inboxPrefix: natsInboxPrefix('gateway') },
      gateways: 1,
      appEnv: {
        ...Object.fromEntries(NATS_USERS.map((u) => [u, nats.envOf(u)])),
        // Webhooks on: persistence's second durable consumer must be allowed too (the receiver need not exist).
        persistence: { ...nats.envOf('persistence'), ...WEBHOOKS_ON },
      },
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
    await cluster?.stop();
    await nats?.stop();
  }, 30_000);

  it('runs a chat message to completion, replays it and reads it back, with no subject refused to any service', async () => {
    const client = await cluster.client('alice');
    const seen = new EventCollector(client);
    const ack = await client.send('What is NATS JetStream?', { stream: true });
    const events = await seen.until(ack.runId);
    expect(runViolations(events, { stream: true })).toEqual([]);
    expect(events.at(-1)!.type).toBe('orchestration_completed');

    // events:resume: the gateway's replay consumer on EVENTS.
    const back = await cluster.client('alice');
    expect(await back.resume('0')).toMatchObject({ replayed: events.length, lastId: events.at(-1)!.id });

    // The HTTP API: persistence's conversation reads, for the gateway.
    const res = await cluster.http('/v1/conversations', { userId: 'alice' });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain(ack.conversationId);

    // A rating: persistence's feedback.set, for the gateway (asked again until the answer is stored).
    let rated: { feedback?: { rating: string } | null } | undefined;
    await waitFor(
      async () => {
        rated = await client.rate(ack.messageId, 'up').catch((err: { code?: string }) => {
          // Each rating counts as a read: wait a little before the next.
          if (err.code === 'NOT_FOUND') return new Promise<undefined>((r) => setTimeout(() => r(undefined), 100));
          throw err;
        });
        return rated !== undefined;
      },
      () => 'the answer was never stored to be rated',
      10_000,
    );
    expect(rated?.feedback).toMatchObject({ rating: 'up' });

    // A retried step reads what its earlier attempt stored (the worker's ordered consumer).
    const worker = new EarlierAttempts(await as('worker'), s);
    const job = (step: number) => ({ runId: ack.runId, userId: 'alice', conversationId: ack.conversationId, step }) as AgentJob;
    let deltaChars = 0;
    for (let step = 0; step < 8; step++) for (const chars of (await worker.of(job(step))).deltaChars.values()) deltaChars += chars;
    const streamed = events.filter((e) => e.type === 'message_delta').map((e) => (e.data as { delta: string }).delta.length);
    expect(streamed.length).toBeGreaterThan(0);
    expect(deltaChars).toBe(streamed.reduce((a, b) => a + b, 0));

    // Persistence's webhook consumer was created and read the run's terminal event (its delivery to
    // the missing receiver then fails, which is no permission matter).
    await waitFor(
      () => cluster.logLines('persistence-0').some((l) => l.msg === 'webhook attempt failed' && l.runId === ack.runId),
      () => 'no webhook attempt for the run',
      30_000,
    );
    expect(nats.violations()).toEqual([]);
  });

  it('lets no client in without valid credentials', async () => {
    await expect(connect({ servers: nats.url })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers: nats.url, user: 'worker', pass: 'pnot-the-password' })).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
    const refused = as('worker', 'pnot-the-password');
    await expect(refused).rejects.toBeInstanceOf(NatsAuthError);
    await expect(refused).rejects.toThrow('refused NATS_USER/NATS_PASSWORD (user "worker")');
    await expect(connectNats({ url: nats.url, name: 'test-anonymous' })).rejects.toThrow(
      /refused no credentials \(set NATS_USER and NATS_PASSWORD/,
    );
  });

  it("keeps a worker from users' live events, persistence's conversation reads and other services' replies", async () => {
    const nc = await as('worker');
    const statuses: Status[] = [];
    void (async () => {
      for await (const status of nc.status()) statuses.push(status);
    })();

    const refusals: NatsError[] = [];
    const listen = (subject: string) => nc.subscribe(subject, { callback: (err) => err && refusals.push(err) });
    const live = listen(s.liveAll);
    const ownUser = listen(s.liveOfUser('alice'));
    const inboxes = listen('_INBOX.>');
    const gatewayReplies = listen(`${natsInboxPrefix('gateway')}.>`);
    await expect(
      nc.request(s.rpc(PERSISTENCE_RPC.listConversations), JSON.stringify({ userId: 'alice', limit: 10 })),
    ).rejects.toMatchObject({
      code: 'PERMISSIONS_VIOLATION',
      permissionContext: { operation: 'publish', subject: s.rpc(PERSISTENCE_RPC.listConversations) },
    });
    await waitFor(
      () => refusals.length === 4,
      () => `refusals: ${refusals.map((e) => e.message)}`,
      5000,
    );
    expect(refusals.map((e) => [e.code, e.permissionContext?.operation, e.permissionContext?.subject]).sort()).toEqual(
      [s.liveAll, s.liveOfUser('alice'), '_INBOX.>', `${natsInboxPrefix('gateway')}.>`]
        .map((subject) => ['PERMISSIONS_VIOLATION', 'subscription', subject])
        .sort(),
    );
    for (const sub of [live, ownUser, inboxes, gatewayReplies]) expect(sub.isClosed()).toBe(true);
    // nats.js reports each refusal on the connection's status too (what connectNats logs).
    const refusedStatuses = () => statuses.filter((st) => st.type === 'error' && st.data === 'PERMISSIONS_VIOLATION');
    await waitFor(
      () => refusedStatuses().length >= 5,
      () => `statuses: ${JSON.stringify(statuses)}`,
      5000,
    );
    expect(
      refusedStatuses()
        .map((st) => st.permissionContext?.subject)
        .sort(),
    ).toEqual(
      [s.liveAll, s.liveOfUser('alice'), '_INBOX.>', `${natsInboxPrefix('gateway')}.>`, s.rpc(PERSISTENCE_RPC.listConversations)].sort(),
    );
    // And the server logged them, as the worker's.
    expect(nats.violations().join('\n')).toContain(`Subscription Violation - User "worker", Subject "${s.liveAll}"`);
    expect(nats.violations().join('\n')).toContain(
      `Publish Violation - User "worker", Subject "${s.rpc(PERSISTENCE_RPC.listConversations)}"`,
    );

    // The gateway's own user makes the same call.
    const gateway = await as('gateway');
    const reply = await gateway.request(s.rpc(PERSISTENCE_RPC.listConversations), JSON.stringify({ userId: 'alice', limit: 10 }), {
      timeout: 5000,
    });
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ ok: true });
  });

  it('stops a service whose credentials NATS refuses, with a fatal log naming the variables', async () => {
    // At start: a worker with a wrong password exits at once instead of retrying.
    const wrong = await cluster.startService('worker', { NATS_PASSWORD: 'pnot-the-password' });
    expect(await wrong.exited).toBe(1);
    expect(readFileSync(join(cluster.logDir, `${wrong.name}.log`), 'utf8')).toContain('refused NATS_USER/NATS_PASSWORD (user "worker")');

    // Running: NATS restarts with another password for the worker (rotated on the server
    // only); nats.js gives up after the second refusal, and the worker logs it and exits.
    const [running] = cluster.running('worker');
    expect(running).toBeDefined();
    await nats.restart({ ...nats.passwords, worker: 'protated-password' });
    let timer: NodeJS.Timeout | undefined;
    const stillRunning = new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 20_000)));
    expect(await Promise.race([running.exited, stillRunning]).finally(() => clearTimeout(timer))).toBe(1);
    const fatal = cluster.logLines(running.name).find((line) => line.level === 60);
    expect(String(fatal?.msg)).toContain('refused NATS_USER/NATS_PASSWORD (user "worker")');
    // The other services reconnected with their unchanged passwords.
    for (const app of ['gateway', 'orchestrator', 'persistence'] as const) await cluster.waitReady(cluster.running(app)[0]);
  }, 60_000);
});
