import { randomUUID } from 'node:crypto';
import { signDevToken } from '@herald/auth';
import type { AgentEvent, ListFeedbackReply, ListMessagesReply, StoredMessage } from '@herald/contracts';
import { HeraldRequestError } from '@herald/client';
import { Cluster, CLUSTER_JWT_SECRET } from '../support/cluster';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Feedback on real processes with two gateways (PROTOCOL.md §2 `message:feedback`, §6): rated
 * over Socket.IO on gateway 0, read and changed over HTTP on gateway 1, refused for other
 * users' messages, exported to admins only, and fed back into the knowledge search.
 */
describe('feedback (real processes, two gateways)', () => {
  let cluster: Cluster;
  let adminToken: string;
  const QUESTION = 'What is NATS JetStream?';

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2 });
    adminToken = await signDevToken('feedback-admin', CLUSTER_JWT_SECRET, { ttlSeconds: 600, role: 'admin' });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  /** The conversation's stored messages, read on `gateway`, once the exchange is stored. */
  async function storedMessages(userId: string, conversationId: string, gateway: number, count = 2): Promise<StoredMessage[]> {
    for (let i = 0; i < 100; i++) {
      const res = await cluster.http(`/v1/conversations/${conversationId}/messages`, { userId, gateway });
      expect(res.status).toBe(200);
      const { messages } = (await res.json()) as ListMessagesReply;
      if (messages.length >= count) return messages;
      await sleep(100);
    }
    throw new Error('the exchange was not stored in time');
  }

  /** Asks on gateway 0 with a full trace; resolves with the run's events once the exchange is stored. */
  async function ask(userId: string, content = QUESTION) {
    const client = await cluster.client(userId, 0);
    const run = await client.ask(content, { traceLevel: 'full' });
    const events = await run.done();
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error(`no answer: ${events.map((e) => e.type).join(',')}`);
    const messages = await storedMessages(userId, run.conversationId, 1);
    return { client, events, messageId: message.data.messageId, conversationId: run.conversationId, userMessageId: messages[0].id };
  }

  const put = (messageId: string, body: unknown, opts: { userId?: string; gateway?: number } = {}) =>
    cluster.http(`/v1/messages/${messageId}/feedback`, {
      method: 'PUT',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      gateway: opts.gateway ?? 1,
      ...(opts.userId ? { userId: opts.userId } : {}),
    });

  const searchTrace = (events: AgentEvent[]) => {
    const completed = events.find((e) => e.type === 'tool_completed' && e.data.tool === 'knowledge_search');
    return completed?.trace as { query: string; scores: number[]; feedback?: Array<Record<string, number | string>> } | undefined;
  };

  it('rates on gateway 0, reads and changes the rating on gateway 1, and the next search is re-ranked by it', async () => {
    const first = await ask('fay');
    const before = searchTrace(first.events);
    expect(before).toMatchObject({ query: QUESTION, scores: expect.any(Array) });
    expect(before!.feedback).toBeUndefined();
    const message = first.events.find((e) => e.type === 'message');
    const cited = message?.type === 'message' ? message.data.metadata.sources.map((s) => s.id) : [];
    expect(cited.length).toBeGreaterThan(0);

    const acked = await first.client.rate(first.messageId, 'down', '  Not what I asked.  ');
    expect(acked).toEqual({ ok: true, feedback: { rating: 'down', comment: 'Not what I asked.', updatedAt: expect.any(String) } });

    const onOther = await storedMessages('fay', first.conversationId, 1);
    expect(onOther.map((m) => [m.role, m.feedback])).toEqual([
      ['user', undefined],
      ['assistant', { rating: 'down', comment: 'Not what I asked.', updatedAt: acked.feedback!.updatedAt }],
    ]);

    // The same question again: the passages that answer cited now rank lower, as the full trace shows.
    const second = await ask('fay');
    const after = searchTrace(second.events)!;
    expect(after.feedback?.length).toBeGreaterThan(0);
    for (const f of after.feedback!) {
      expect(cited).toContain(f.id);
      expect(f.after as number).toBeLessThan(f.before as number);
      // One user's vote on the very same question: a quarter off (FEEDBACK_RANKING_MAX_BOOST 0.5, one prior vote).
      expect(f.factor).toBeCloseTo(0.75, 3);
    }
    expect(after.scores).toEqual([...after.scores].sort((a, b) => b - a));

    // Over HTTP on the other gateway: replace, remove, rate again.
    const up = await put(first.messageId, { rating: 'up' }, { userId: 'fay' });
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ feedback: { rating: 'up', updatedAt: expect.any(String) } });
    const removed = await put(first.messageId.toUpperCase(), { rating: null }, { userId: 'fay' });
    expect(await removed.json()).toEqual({ feedback: null });
    expect((await storedMessages('fay', first.conversationId, 0))[1].feedback).toBeNull();
    expect((await put(first.messageId, { rating: 'down', messageId: first.messageId }, { userId: 'fay' })).status).toBe(200);
  }, 120_000);

  it('refuses another user’s message, a user message and unknown ids (NOT_FOUND), and bad input (INVALID_INPUT), storing nothing', async () => {
    const owned = await ask('gus');
    const mallory = await cluster.client('mallory', 0);
    const refusal = (work: Promise<unknown>) =>
      work.then(
        () => 'accepted',
        (err: HeraldRequestError) => err.code,
      );
    expect(await refusal(mallory.rate(owned.messageId, 'down'))).toBe('NOT_FOUND');
    expect(await refusal(mallory.rate(owned.messageId, null))).toBe('NOT_FOUND');
    expect(await refusal(owned.client.rate(owned.userMessageId, 'up'))).toBe('NOT_FOUND');
    expect(await refusal(owned.client.rate(randomUUID(), 'up'))).toBe('NOT_FOUND');
    expect(await refusal(owned.client.rate('not-a-uuid', 'up'))).toBe('INVALID_INPUT');
    expect(await refusal(owned.client.rate(owned.messageId, 'sideways' as 'up'))).toBe('INVALID_INPUT');
    expect(await refusal(owned.client.rate(owned.messageId, 'up', 'x'.repeat(2001)))).toBe('INVALID_INPUT');
    expect(await refusal(owned.client.rate(owned.messageId, 'up', 'half a pair \ud83d'))).toBe('INVALID_INPUT');

    const foreign = await put(owned.messageId, { rating: 'down' }, { userId: 'mallory' });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Message not found' } });
    expect((await put('not-a-uuid', { rating: 'up' }, { userId: 'gus' })).status).toBe(404);
    for (const bad of [
      {},
      { rating: 'up', extra: 1 },
      { rating: null, comment: 'why' },
      '{"rating":',
      { rating: 'up', messageId: randomUUID() },
    ]) {
      const res = await put(owned.messageId, bad, { userId: 'gus' });
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_INPUT');
    }
    expect((await put(owned.messageId, { rating: 'up' })).status).toBe(401);
    expect((await storedMessages('gus', owned.conversationId, 1))[1].feedback).toBeNull();
  }, 120_000);

  it('exports current ratings to admins only (403 otherwise), paged', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const rated = await ask('hal', 'How does resume work?');
    await rated.client.rate(rated.messageId, 'up', 'Helpful');

    const forbidden = await cluster.http(`/v1/admin/feedback?since=${encodeURIComponent(since)}`, { userId: 'hal', gateway: 1 });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });

    const get = (query: string) =>
      fetch(`${cluster.gatewayUrl(1)}/v1/admin/feedback?${query}`, { headers: { authorization: `Bearer ${adminToken}` } });
    const res = await get(`since=${encodeURIComponent(since)}&limit=200`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ListFeedbackReply;
    const mine = body.feedback.find((f) => f.messageId === rated.messageId);
    expect(mine).toEqual({
      messageId: rated.messageId,
      userId: 'hal',
      rating: 'up',
      comment: 'Helpful',
      at: expect.any(String),
      message: { id: rated.messageId, conversationId: rated.conversationId, content: expect.stringMatching(/\S/) },
    });
    for (const f of body.feedback) expect(Date.parse(f.at)).toBeGreaterThanOrEqual(Date.parse(since));

    // Paged one at a time: every rating once, in the order of their last change.
    const paged: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page = (await (
        await get(`since=${encodeURIComponent(since)}&limit=1${after ? `&after=${after}` : ''}`)
      ).json()) as ListFeedbackReply;
      paged.push(...page.feedback.map((f) => f.messageId));
      after = page.nextAfter;
      if (!after) break;
    }
    expect(paged).toEqual(body.feedback.map((f) => f.messageId));

    for (const bad of ['since=yesterday', 'limit=0', 'limit=501', 'after=%00%00'])
      expect({ bad, status: (await get(bad)).status }).toEqual({ bad, status: 400 });
  }, 120_000);
});
