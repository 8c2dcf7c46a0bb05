import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { subjects, type WebhookPayload } from '@herald/contracts';
import { loadConfig, type Config } from '@herald/config';
import { createRedis, type Redis } from '@herald/messaging';
import { createLogger, ServiceMetrics } from '@herald/observability';
import { postWebhook } from '../../../apps/persistence/src/webhooks/post-webhook';
import { WebhookDeliveryWorker } from '../../../apps/persistence/src/webhooks/webhook-delivery.worker';
import { webhookIdOf } from '../../../apps/persistence/src/webhooks/webhook-message';
import { WebhookMetrics } from '../../../apps/persistence/src/webhooks/webhook-metrics.service';
import { DEFAULT_WEBHOOK_OPTIONS, type WebhookOptions } from '../../../apps/persistence/src/webhooks/webhook-options';
import { WebhookQueue } from '../../../apps/persistence/src/webhooks/webhook-queue.service';
import { WebhookReceiver } from '../../support/webhooks/webhook-receiver';
import { PersistenceHarness } from '../../support/persistence-harness';
import { waitFor } from '../../support/polling';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Webhooks on real NATS, Postgres and Redis. First persistence itself (in process, with
 * WEBHOOK_URLS): terminal events become signed deliveries, retried with the same webhook-id,
 * one per (run, URL) however often the terminal event is seen. Then the delivery worker alone
 * on its BullMQ queue, with a short retry window: giving up, refusing private targets, and
 * what it does with answers that are redirects, too long, or never come.
 */
describe('webhooks', () => {
  describe('from terminal events (persistence with WEBHOOK_URLS)', () => {
    let h: PersistenceHarness;
    let receiver: WebhookReceiver;

    beforeAll(async () => {
      // /flaky fails the first two attempts of each message; /ok takes every one.
      receiver = await WebhookReceiver.start(SECRET, (path, attempt) => (path === '/flaky' && attempt <= 2 ? 503 : 204));
      h = await PersistenceHarness.start(1, {
        REDIS_URL,
        WEBHOOK_URLS: `${receiver.url('/ok')},${receiver.url('/flaky')}`,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ALLOW_PRIVATE: 'true',
      });
    });
    afterAll(async () => {
      await h?.close();
      await receiver?.close();
    });

    async function admitted(userId: string) {
      const reply = await h.admit(userId);
      return { run: { userId, conversationId: reply.conversationId, runId: reply.runId }, messageId: reply.messageId };
    }

    it('delivers run.completed to each URL, signed, retrying the failed ones with the same webhook-id', async () => {
      const { run, messageId } = await admitted('alice@example.com');
      const usage = { promptTokens: 40, completionTokens: 12, totalTokens: 52 };
      await h.publish(run, 'orchestration_started', { intent: 'question' }, 0.05);
      await h.publish(
        run,
        'message',
        { messageId, role: 'assistant', content: 'Hello.', metadata: { intent: 'question', sources: [] } },
        0.9,
      );
      const terminalId = await h.publish(run, 'orchestration_completed', { durationMs: 800, usage }, 1);

      await receiver.until(
        () => receiver.of(run.runId).some((r) => r.path === '/flaky' && r.status === 204),
        'the third attempt at /flaky',
      );
      const ok = receiver.of(run.runId).filter((r) => r.path === '/ok');
      const flaky = receiver.of(run.runId).filter((r) => r.path === '/flaky');
      expect(ok.map((r) => r.status)).toEqual([204]);
      expect(flaky.map((r) => r.status)).toEqual([503, 503, 204]);
      for (const r of [...ok, ...flaky]) {
        expect({ verified: r.verified, error: r.verifyError }).toEqual({ verified: true, error: undefined });
        expect(r.id).toBe(webhookIdOf(run.runId));
        expect(r.body).toBe(flaky[0].body);
        expect(r.headers['content-type']).toBe('application/json');
      }
      // The first retries come about 1 s and 5 s after the failures.
      const gaps = [flaky[1].receivedAt - flaky[0].receivedAt, flaky[2].receivedAt - flaky[1].receivedAt];
      expect(gaps[0]).toBeGreaterThanOrEqual(800);
      expect(gaps[1]).toBeGreaterThanOrEqual(4000);

      const [{ ts }] = await h.rows<{ ts: string }>(`SELECT envelope->>'ts' AS ts FROM events WHERE id = $1`, [terminalId]);
      expect(flaky[0].payload).toEqual<WebhookPayload>({
        type: 'run.completed',
        timestamp: new Date(ts).toISOString(),
        data: { ...run, status: 'completed', usage, messageId },
      });
    });

    it('sends run.failed and run.cancelled with their status, null usage, the error, and no messageId', async () => {
      const failed = await admitted('bob');
      const cancelled = await admitted('carol');
      await h.publish(failed.run, 'error', { code: 'TIMEOUT', message: 'The assistant took too long.', retryable: true }, 1);
      await h.publish(cancelled.run, 'run_cancelled', { reason: 'user' }, 1);
      await receiver.until(
        () => [failed, cancelled].every(({ run }) => receiver.of(run.runId).some((r) => r.path === '/ok')),
        'both webhooks at /ok',
      );
      const [f] = receiver.of(failed.run.runId).filter((r) => r.path === '/ok');
      const [c] = receiver.of(cancelled.run.runId).filter((r) => r.path === '/ok');
      expect(f.payload).toMatchObject({
        type: 'run.failed',
        data: {
          ...failed.run,
          status: 'failed',
          usage: null,
          error: { code: 'TIMEOUT', message: 'The assistant took too long.', retryable: true },
        },
      });
      expect(c.payload).toMatchObject({ type: 'run.cancelled', data: { ...cancelled.run, status: 'cancelled', usage: null } });
      for (const p of [f.payload!, c.payload!]) expect(p.data.messageId).toBeUndefined();
      expect(c.payload!.data.error).toBeUndefined();
      expect([f.verified, c.verified]).toEqual([true, true]);
    });

    it('queues one delivery per run and URL when the terminal event is seen twice, and sends nothing for other events', async () => {
      const { run } = await admitted('dave');
      await h.publish(run, 'run_cancelled', { reason: 'user' }, 1, `${run.runId}:first`);
      await receiver.until(() => receiver.of(run.runId).some((r) => r.path === '/ok'), 'the first delivery');
      // The same terminal event again (another JetStream message: not de-duplicated by the stream).
      await h.publish(run, 'run_cancelled', { reason: 'user' }, 1, `${run.runId}:again`);
      await h.publish(run, 'status', { step: 'late', message: 'not a terminal event' }, 1, `${run.runId}:status`);
      // A later run's webhook is the barrier: one instance handles its events in stream order.
      const { run: later } = await admitted('dave');
      await h.publish(later, 'run_cancelled', { reason: 'user' }, 1);
      await receiver.until(() => receiver.of(later.runId).some((r) => r.path === '/ok'), 'the later run');
      expect(receiver.of(run.runId).filter((r) => r.path === '/ok')).toHaveLength(1);
    });
  });

  it('runs nothing of it without WEBHOOK_URLS: no consumer, no queue', async () => {
    const h = await PersistenceHarness.start();
    try {
      const jsm = await h.nc.jetstreamManager();
      const consumers = (await jsm.consumers.list(h.subjects.streams.events).next()).map((c) => c.name);
      expect(consumers).toEqual([h.subjects.consumers.persistenceEvents]);
      const redis = createRedis(REDIS_URL, undefined, { forBullmq: true });
      try {
        expect(await redis.keys(`${h.subjects.bullmqPrefix}:*`)).toEqual([]);
      } finally {
        redis.disconnect();
      }
    } finally {
      await h.close();
    }
  });

  describe('delivery worker (BullMQ on Redis)', () => {
    const namespace = `t${randomBytes(5).toString('hex')}`;
    const started: Array<{ worker: WebhookDeliveryWorker; queue: WebhookQueue }> = [];
    let redis: Redis;
    let receiver: WebhookReceiver;

    beforeAll(async () => {
      redis = createRedis(REDIS_URL, undefined, { forBullmq: true });
      // /down always fails; everything else succeeds.
      receiver = await WebhookReceiver.start(SECRET, (path) => (path === '/down' ? 500 : 204));
    });
    afterAll(async () => {
      for (const { worker, queue } of started) {
        await worker.onModuleDestroy();
        await queue.onModuleDestroy();
      }
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}_*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
      await receiver?.close();
    });

    /** A delivery worker and its queue for `urls`, as persistence builds them (each on a queue of its own). */
    function deliveries(urls: string[], env: Record<string, string>, options: Partial<WebhookOptions>) {
      const s = subjects(`${namespace}_${started.length}`);
      const config: Config = loadConfig(
        { NODE_ENV: 'test', HERALD_NAMESPACE: s.namespace, REDIS_URL, WEBHOOK_URLS: urls.join(','), WEBHOOK_SECRET: SECRET, ...env },
        { tokens: false },
      );
      const metrics = new WebhookMetrics(new ServiceMetrics());
      const logger = createLogger('webhooks-test', process.env.TEST_LOG_LEVEL ?? 'silent');
      const queue = new WebhookQueue(redis, s, config);
      const worker = new WebhookDeliveryWorker(config, s, redis, logger, { ...DEFAULT_WEBHOOK_OPTIONS, ...options }, metrics);
      worker.onApplicationBootstrap();
      started.push({ worker, queue });
      const count = async (outcome: string) =>
        (await metrics.deliveries.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
      return { queue, count };
    }

    const payload = (runId: string): WebhookPayload => ({
      type: 'run.cancelled',
      timestamp: new Date().toISOString(),
      data: { runId, conversationId: randomUUID(), userId: 'erin', status: 'cancelled', usage: null },
    });

    it('gives up once the retry window is spent, every attempt with the same webhook-id', async () => {
      const { queue, count } = deliveries([receiver.url('/down')], { WEBHOOK_ALLOW_PRIVATE: 'true' }, { retryWindowMs: 2500 });
      const runId = randomUUID();
      await queue.enqueue(payload(runId));
      await waitFor(async () => (await count('gave_up')) === 1, 'the delivery to give up', 20_000);
      const attempts = receiver.of(runId);
      // At 0 s, about 1 s, and at the end of the window (2.5 s), then no more (two on a machine
      // so slow that the second attempt already comes after the window).
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts.length).toBeLessThanOrEqual(3);
      expect(new Set(attempts.map((a) => a.id))).toEqual(new Set([webhookIdOf(runId)]));
      expect(attempts.every((a) => a.verified)).toBe(true);
      expect(await count('failed')).toBe(attempts.length);
      expect(await count('delivered')).toBe(0);
      const [job] = await queue.queue.getJobs(['failed']);
      expect(job.data.runId).toBe(runId);
      // The last attempt came at the end of the window, not before.
      expect(job.processedOn! - job.timestamp).toBeGreaterThanOrEqual(2500);
    });

    it('refuses loopback targets (by address and by name) unless WEBHOOK_ALLOW_PRIVATE: nothing sent, counted, not retried', async () => {
      const urls = [
        receiver.url('/private'),
        receiver.url('/private-name', 'localhost'),
        receiver.url('/private-v6', '[::ffff:127.0.0.1]'),
      ];
      const { queue, count } = deliveries(urls, {}, {});
      const runId = randomUUID();
      await queue.enqueue(payload(runId));
      await waitFor(async () => (await count('refused')) === 3, 'three refusals');
      await waitFor(async () => (await queue.queue.getJobCounts('failed')).failed === 3, 'the three jobs failed for good');
      expect(receiver.received.filter((r) => r.path.startsWith('/private'))).toEqual([]);
      expect(await count('gave_up')).toBe(0);
      expect(await count('failed')).toBe(0);
    });
  });

  describe('what an attempt does with the answer', () => {
    let server: Server;
    const hits: string[] = [];
    let base: string;

    beforeAll(async () => {
      server = createServer((req, res) => {
        hits.push(req.url ?? '');
        req.resume();
        if (req.url === '/redirect') res.writeHead(307, { location: `${base}/elsewhere` }).end();
        else if (req.url === '/huge') {
          res.writeHead(200);
          res.write(Buffer.alloc(1024 * 1024, 'x'));
          // Never ends: only the first bytes are read.
        } else if (req.url === '/cut') {
          res.writeHead(200, { 'content-length': '100' });
          res.write('abc', () => res.socket?.destroy());
        } else if (req.url === '/silent') {
          /* never answers */
        } else res.writeHead(204).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    const post = (path: string, timeoutMs = 10_000) =>
      postWebhook(new URL(`${base}${path}`), { headers: {}, body: '{}', timeoutMs, maxResponseBytes: 4096, allowPrivate: true });

    it('does not follow a redirect: a 3xx is a failed attempt', async () => {
      expect((await post('/redirect')).status).toBe(307);
      expect(hits).not.toContain('/elsewhere');
    });

    it('reads a bounded part of a long answer, and gives up on one that never comes', async () => {
      const huge = await post('/huge');
      expect(huge.status).toBe(200);
      expect(huge.body.length).toBeLessThanOrEqual(4096);
      await expect(post('/silent', 300)).rejects.toThrow(/no answer within 300 ms/);
      // An answer cut off before its end is a failed attempt, not one left hanging.
      await expect(post('/cut')).rejects.toThrow(/cut off|aborted/);
    });

    it('pins the connection to the checked address: a name is resolved once, by the resolver given', async () => {
      const resolve = jest.fn(async () => [{ address: '127.0.0.1', family: 4 }]);
      const port = new URL(base).port;
      const res = await postWebhook(new URL(`http://hooks.invalid:${port}/ok`), {
        headers: {},
        body: '{}',
        timeoutMs: 5000,
        maxResponseBytes: 1024,
        allowPrivate: true,
        resolve,
      });
      expect(res.status).toBe(204);
      expect(resolve).toHaveBeenCalledTimes(1);
      expect(resolve).toHaveBeenCalledWith('hooks.invalid');
    });
  });
});
