import { randomBytes } from 'node:crypto';
import { Cluster } from '../support/cluster';
import { EventCollector } from '../support/event-collector';
import { WebhookReceiver } from '../support/webhooks/webhook-receiver';
import { waitFor } from '../support/polling';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const LONG_QUESTION = 'Explain in detail how JetStream stores events and how resume works after a reconnect';

/**
 * Webhooks on real processes (two gateways): persistence with WEBHOOK_URLS delivers signed
 * run.completed and run.cancelled to a local receiver that verifies them with the
 * `standardwebhooks` library and fails each message's first attempt on purpose. The receiver
 * is on loopback, so the cluster runs with WEBHOOK_ALLOW_PRIVATE=true; the last test restarts
 * persistence without it and sees the delivery refused: nothing sent, a warning, a metric.
 */
describe('webhooks (PROTOCOL.md §10)', () => {
  let cluster: Cluster;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start(SECRET, (_path, attempt) => (attempt === 1 ? 503 : 204));
    cluster = await Cluster.start({
      gateways: 2,
      readyTimeoutMs: 120_000,
      env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '20' },
      appEnv: { persistence: { WEBHOOK_URLS: receiver.url('/hook'), WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' } },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
  }, 30_000);

  const deliveredOf = (runId: string) => receiver.of(runId).filter((r) => r.status === 204);

  it('delivers run.completed, signed, with the answer id and usage, after a failed first attempt (same webhook-id)', async () => {
    const client = await cluster.client('alice', 0);
    const seen = new EventCollector(client);
    const ack = await client.send('What is NATS JetStream?');
    const events = await seen.until(ack.runId, 90_000);
    const terminal = events.at(-1)!;
    expect(terminal.type).toBe('orchestration_completed');

    await receiver.until(() => deliveredOf(ack.runId).length === 1, 'run.completed delivered', 60_000);
    const attempts = receiver.of(ack.runId);
    expect(attempts.map((a) => a.status)).toEqual([503, 204]);
    expect(attempts[1].id).toBe(attempts[0].id);
    expect(attempts[1].body).toBe(attempts[0].body);
    for (const a of attempts) expect({ verified: a.verified, error: a.verifyError }).toEqual({ verified: true, error: undefined });

    const message = events.find((e) => e.type === 'message')!;
    const usage = (terminal.data as { usage?: unknown }).usage;
    expect(usage).toEqual(expect.objectContaining({ totalTokens: expect.any(Number) }));
    expect(attempts[1].payload).toEqual({
      type: 'run.completed',
      timestamp: new Date(terminal.ts).toISOString(),
      data: {
        runId: ack.runId,
        conversationId: ack.conversationId,
        userId: 'alice',
        status: 'completed',
        usage,
        messageId: (message.data as { messageId: string }).messageId,
      },
    });
    expect(attempts[1].payload!.data.messageId).toBe(ack.messageId);
  }, 150_000);

  it('delivers run.cancelled for a run cancelled from the other gateway', async () => {
    const a = await cluster.client('bob', 0);
    const b = await cluster.client('bob', 1);
    const seen = new EventCollector(a);
    const ack = await a.send(LONG_QUESTION, { stream: true });
    await seen.untilSeen(ack.runId, (e) => e.type === 'message_delta', 90_000);
    await expect(b.cancel(ack.runId)).resolves.toMatchObject({ ok: true });
    const terminal = (await seen.until(ack.runId, 90_000)).at(-1)!;
    expect(terminal.type).toBe('run_cancelled');

    await receiver.until(() => deliveredOf(ack.runId).length === 1, 'run.cancelled delivered', 60_000);
    const attempts = receiver.of(ack.runId);
    expect(attempts.map((r) => r.status)).toEqual([503, 204]);
    expect(new Set(attempts.map((r) => r.id)).size).toBe(1);
    expect(attempts.every((r) => r.verified)).toBe(true);
    // The terminal event's usage: partial, or null when it carries none.
    const usage = (terminal.data as { usage?: unknown }).usage ?? null;
    expect(attempts[1].payload).toEqual({
      type: 'run.cancelled',
      timestamp: new Date(terminal.ts).toISOString(),
      data: { runId: ack.runId, conversationId: ack.conversationId, userId: 'bob', status: 'cancelled', usage },
    });
  }, 150_000);

  it('refuses the loopback receiver once persistence runs without WEBHOOK_ALLOW_PRIVATE: nothing sent, a warning, a metric', async () => {
    const [old] = cluster.running('persistence');
    await cluster.kill(old);
    const persistence = await cluster.startService('persistence', { WEBHOOK_ALLOW_PRIVATE: 'false' });
    await cluster.waitReady(persistence, 120_000);

    const client = await cluster.client('carol', 1);
    const seen = new EventCollector(client);
    const ack = await client.send('What is NATS JetStream?');
    expect((await seen.until(ack.runId, 90_000)).at(-1)!.type).toBe('orchestration_completed');

    const refused = async () => {
      const text = await (await fetch(persistence.metricsUrl)).text();
      return Number(/^herald_webhook_deliveries_total\{outcome="refused"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    await waitFor(
      async () => (await refused()) === 1,
      () => 'no refused delivery counted',
      30_000,
    );
    const warning = cluster
      .logLines(persistence.name)
      .find((l) => l.level === 40 && String(l.msg).startsWith('webhook refused') && l.runId === ack.runId);
    expect(warning).toMatchObject({ range: 'loopback', address: '127.0.0.1' });
    expect(receiver.of(ack.runId)).toEqual([]);
  }, 240_000);
});
