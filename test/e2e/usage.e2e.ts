import { randomUUID } from 'node:crypto';
import { signDevToken } from '@herald/auth';
import type { AgentEvent, DayUsageReply, Usage, UsageReply } from '@herald/contracts';
import { io } from 'socket.io-client';
import { Cluster, CLUSTER_JWT_SECRET } from '../support/cluster';
import { EventCollector } from '../support/event-collector';
import { setTimeout as sleep } from 'node:timers/promises';

const PRICES = { prompt: 3, completion: 15 }; // USD per million tokens

/**
 * Usage and quotas on real processes (two gateways, one of everything else): the usage of
 * runs shows in `GET /v1/usage` on any gateway, a daily quota reached through one gateway
 * refuses the next run on the other (socket ack, HTTP 429 with Retry-After, AG-UI), runs
 * admitted before the limit still finish, and the admin report is for admins only.
 */
describe('usage and quotas across two gateways (real processes)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({
      gateways: 2,
      env: {
        // One token: the first run ends the day's allowance; the ones admitted with it still run.
        QUOTA_DAILY_TOKENS: '1',
        LLM_PROMPT_PRICE_PER_MTOK: String(PRICES.prompt),
        LLM_COMPLETION_PRICE_PER_MTOK: String(PRICES.completion),
        RATE_LIMIT_PER_MINUTE: '100',
      },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  const today = () => new Date().toISOString().slice(0, 10);

  async function usageOf(userId: string, gateway: number, query = ''): Promise<UsageReply> {
    const res = await cluster.http(`/v1/usage${query}`, { userId, gateway });
    expect(res.status).toBe(200);
    return (await res.json()) as UsageReply;
  }

  /** Polls `GET /v1/usage` until `runs` runs are counted. */
  async function counted(userId: string, gateway: number, runs: number): Promise<UsageReply> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const usage = await usageOf(userId, gateway);
      if (usage.total.runs >= runs || Date.now() > deadline) return usage;
      await sleep(100);
    }
  }

  const usageData = (events: AgentEvent[]): Usage => {
    const terminal = events.at(-1)!;
    return (terminal.data as { usage: Usage }).usage;
  };

  it('counts the runs of a user, refuses the next run on the other gateway once the quota is spent, and lets admitted runs finish', async () => {
    const user = `quota-${randomUUID()}`;
    const watcher = new EventCollector(await cluster.client(user, 0));
    const sender = await cluster.client(user, 0);

    // Nothing yet: an empty day and the quota.
    const before = await usageOf(user, 1);
    expect(before).toMatchObject({ days: [], total: { runs: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 } });
    expect(before.quota).toEqual({ dailyTokens: 1, dailyCostUsd: null, resetsAt: expect.any(String) });
    const resetsAt = Date.parse(before.quota!.resetsAt);
    expect(new Date(resetsAt).toISOString().slice(11)).toBe('00:00:00.000Z');
    expect(resetsAt - Date.now()).toBeGreaterThan(0);
    expect(resetsAt - Date.now()).toBeLessThanOrEqual(86_400_000);

    // Two runs admitted at once through gateway 0, before any usage was counted: both finish.
    const [a, b] = await Promise.all([sender.send('What is NATS JetStream?'), sender.send('How does Herald resume a stream?')]);
    const runA = await watcher.until(a.runId);
    const runB = await watcher.until(b.runId);
    expect([runA.at(-1)!.type, runB.at(-1)!.type]).toEqual(['orchestration_completed', 'orchestration_completed']);

    // Their usage, read on the other gateway, is exactly what their terminal events said.
    const usage = await counted(user, 1, 2);
    const [ua, ub] = [usageData(runA), usageData(runB)];
    expect(ua.totalTokens).toBeGreaterThan(0);
    const promptTokens = ua.promptTokens + ub.promptTokens;
    const completionTokens = ua.completionTokens + ub.completionTokens;
    expect(usage.total).toMatchObject({ runs: 2, promptTokens, completionTokens });
    // Priced for the local engine too, from LLM_*_PRICE_PER_MTOK.
    const expectedCost = (promptTokens * PRICES.prompt + completionTokens * PRICES.completion) / 1e6;
    expect(usage.total.costUsd).toBeCloseTo(expectedCost, 6);
    expect(usage.total.costUsd).toBeCloseTo((ua.costUsd ?? 0) + (ub.costUsd ?? 0), 6);
    expect(usage.days).toEqual([{ day: today(), ...usage.total }]);

    // The quota is spent: gateway 1 refuses a new run on the socket…
    const socket = io(cluster.gatewayUrl(1), { auth: { token: await cluster.token(user) }, transports: ['websocket'], forceNew: true });
    try {
      await new Promise<void>((resolve) => socket.once('session:ready', () => resolve()));
      const ack = await socket.emitWithAck('chat:send', { conversationId: 'new', content: 'One more question' });
      expect(ack).toMatchObject({ ok: false, error: { code: 'QUOTA_EXCEEDED', retryAfterMs: expect.any(Number) } });
      const retryAfterMs = (ack as { error: { retryAfterMs: number } }).error.retryAfterMs;
      expect(Math.abs(Date.now() + retryAfterMs - resetsAt)).toBeLessThan(60_000);
    } finally {
      socket.close();
    }

    // …over HTTP with 429 and Retry-After in seconds…
    const res = await cluster.http('/v1/conversations/new/messages', {
      method: 'POST',
      userId: user,
      gateway: 1,
      body: JSON.stringify({ content: 'One more question' }),
    });
    expect(res.status).toBe(429);
    const body = (await res.json()) as { error: { code: string; retryAfterMs: number } };
    expect(body.error.code).toBe('QUOTA_EXCEEDED');
    expect(Number(res.headers.get('retry-after'))).toBe(Math.max(1, Math.ceil(body.error.retryAfterMs / 1000)));

    // …and on the AG-UI route, which admits runs the same way.
    const agui = await cluster.http('/v1/agui', {
      method: 'POST',
      userId: user,
      gateway: 1,
      body: JSON.stringify({
        threadId: randomUUID(),
        runId: randomUUID(),
        messages: [{ id: randomUUID(), role: 'user', content: 'One more question' }],
        tools: [],
        context: [],
        state: {},
      }),
    });
    expect(agui.status).toBe(429);
    expect(((await agui.json()) as { error: { code: string } }).error.code).toBe('QUOTA_EXCEEDED');
    expect(Number(agui.headers.get('retry-after'))).toBeGreaterThan(0);

    // …and on the AI SDK's chat route.
    const aiSdk = await cluster.http('/v1/ai-sdk/chat', {
      method: 'POST',
      userId: user,
      gateway: 1,
      body: JSON.stringify({
        id: randomUUID(),
        messages: [{ id: randomUUID(), role: 'user', parts: [{ type: 'text', text: 'One more question' }] }],
        trigger: 'submit-message',
      }),
    });
    expect(aiSdk.status).toBe(429);
    expect(((await aiSdk.json()) as { error: { code: string } }).error.code).toBe('QUOTA_EXCEEDED');

    // Nothing of the refused runs was counted or started.
    expect((await usageOf(user, 0)).total.runs).toBe(2);

    // Another user has a quota of their own.
    const other = await cluster.client(`${user}-other`, 1);
    await expect(other.send('What is NATS JetStream?')).resolves.toMatchObject({ runId: expect.any(String) });
  }, 120_000);

  it('shows every user of a day to admins only, and refuses bad ranges', async () => {
    const user = `admin-report-${randomUUID()}`;
    const client = await cluster.client(user, 1);
    const watcher = new EventCollector(client);
    const ack = await client.send('What is NATS JetStream?');
    await watcher.until(ack.runId);
    const mine = await counted(user, 0, 1);
    expect(mine.total.runs).toBe(1);

    const forbidden = await cluster.http(`/v1/admin/usage?day=${today()}`, { userId: user });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');

    const adminToken = await signDevToken('usage-admin', CLUSTER_JWT_SECRET, { ttlSeconds: 600, role: 'admin' });
    const users: DayUsageReply['users'] = [];
    let after: string | null = null;
    do {
      const query: string = `?day=${today()}&limit=1${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const res = await fetch(`${cluster.gatewayUrl(0)}/v1/admin/usage${query}`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(res.status).toBe(200);
      const page = (await res.json()) as DayUsageReply;
      expect(page.day).toBe(today());
      expect(page.users.length).toBeLessThanOrEqual(1);
      users.push(...page.users);
      after = page.nextAfter;
    } while (after);
    expect(users.find((u) => u.userId === user)).toEqual({ userId: user, ...mine.total });

    for (const query of ['?from=2026-02-30', `?from=${today()}&to=2000-01-01`, '?from=2020-01-01&to=2026-01-01', '?to=tomorrow']) {
      const res = await cluster.http(`/v1/usage${query}`, { userId: user });
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_INPUT');
    }
    const bad = await fetch(`${cluster.gatewayUrl(0)}/v1/admin/usage?day=yesterday`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(bad.status).toBe(400);
  }, 90_000);
});
