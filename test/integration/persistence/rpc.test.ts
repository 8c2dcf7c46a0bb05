import { randomUUID } from 'node:crypto';
import { type AdmitRunRequest, ErrorCode, PERSISTENCE_RPC, RPC_FAILURE, type ListConversationsReply } from '@herald/contracts';
import type { RpcCallError } from '@herald/messaging';
import { errorCodeOf, errorOf, PersistenceHarness } from '../../support/persistence-harness';
import { setTimeout as sleep } from 'node:timers/promises';

describe('persistence rpc', () => {
  let h: PersistenceHarness;

  beforeAll(async () => {
    h = await PersistenceHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('run.admit', () => {
    it('creates a conversation owned by the user, titled from the message, and a queued run', async () => {
      const req = h.admitRequest('alice', { content: '  Tell me   about\tresume and replay\nin detail please' });
      const reply = await h.call(PERSISTENCE_RPC.admitRun, req);
      expect(reply).toMatchObject({
        conversationId: req.newConversationId,
        runId: req.runId,
        messageId: req.messageId,
        userMessageId: req.userMessageId,
        duplicate: false,
        status: 'queued',
        content: 'Tell me   about\tresume and replay\nin detail please',
        options: req.options,
      });
      expect(Date.parse(reply.acceptedAt as string)).toBeGreaterThan(Date.now() - 60_000);
      const [conversation] = await h.rows(`SELECT user_id, title FROM conversations WHERE id = $1`, [req.newConversationId]);
      expect(conversation).toEqual({ user_id: 'alice', title: 'Tell me about resume and replay' });
      const [run] = await h.rows(`SELECT user_id, conversation_id, status, progress, client_message_id FROM runs WHERE id = $1`, [
        req.runId,
      ]);
      expect(run).toEqual({
        user_id: 'alice',
        conversation_id: req.newConversationId,
        status: 'queued',
        progress: 0,
        client_message_id: null,
      });
    });

    it('does not take over another user’s conversation whose id comes as the new conversation’s', async () => {
      const owned = await h.admit('paula');
      const err = await errorOf(h.admit('mallory', { newConversationId: owned.conversationId }));
      expect(err).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Conversation not found' });
      const rows = await h.rows(`SELECT user_id FROM runs WHERE conversation_id = $1`, [owned.conversationId]);
      expect(rows).toEqual([{ user_id: 'paula' }]);
      // The same user sending to "new" with the id of a conversation of theirs adds to it.
      const again = await h.admit('paula', { newConversationId: owned.conversationId });
      expect(again).toMatchObject({ conversationId: owned.conversationId, duplicate: false, status: 'queued' });
    });

    it('adds a run to an existing conversation of the user', async () => {
      const first = await h.admit('carol');
      const second = await h.admit('carol', { conversationId: first.conversationId.toUpperCase() });
      expect(second.conversationId).toBe(first.conversationId);
      expect(second.duplicate).toBe(false);
    });

    it('answers NOT_FOUND, identically, for another user’s conversation and for one that does not exist', async () => {
      const owned = await h.admit('alice');
      const errors: unknown[] = [];
      for (const conversationId of [owned.conversationId, randomUUID()]) {
        errors.push(await errorOf(h.admit('mallory', { conversationId })));
      }
      expect(errors[0]).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Conversation not found' });
      expect(errors[1]).toEqual(errors[0]);
      // An id that is not a UUID is no conversation id at all: the contract refuses it, on both sides.
      expect(await errorCodeOf(h.admit('mallory', { conversationId: 'not-a-uuid' }))).toBe(ErrorCode.INVALID_INPUT);
      expect(await h.raw(PERSISTENCE_RPC.admitRun, h.admitRequest('mallory', { conversationId: 'not-a-uuid' }))).toMatchObject({
        ok: false,
        error: { code: ErrorCode.INVALID_INPUT },
      });
      const [{ count }] = await h.rows(`SELECT count(*)::int AS count FROM runs WHERE user_id = 'mallory'`);
      expect(count).toBe(0);
    });

    it('answers a repeated clientMessageId with the first run, starting nothing new', async () => {
      const first = await h.admit('dave', { clientMessageId: 'c-7f3a' });
      const again = await h.admit('dave', { clientMessageId: 'c-7f3a', content: 'something else' });
      expect(again).toEqual({ ...first, duplicate: true });
      // The key belongs to the user: another user's identical key is another run.
      const other = await h.admit('erin', { clientMessageId: 'c-7f3a' });
      expect(other.duplicate).toBe(false);
      expect(other.runId).not.toBe(first.runId);
      const [{ count }] = await h.rows(`SELECT count(*)::int AS count FROM runs WHERE user_id = 'dave'`);
      expect(count).toBe(1);
    });

    it('with duplicateOnly, answers only a repeated clientMessageId and otherwise starts nothing (NOT_FOUND)', async () => {
      const first = await h.admit('olivia', { clientMessageId: 'over-limit' });
      expect(await h.admit('olivia', { clientMessageId: 'over-limit', duplicateOnly: true })).toEqual({ ...first, duplicate: true });
      expect(await errorCodeOf(h.admit('olivia', { clientMessageId: 'unseen', duplicateOnly: true }))).toBe(ErrorCode.NOT_FOUND);
      expect(await errorCodeOf(h.admit('olivia', { duplicateOnly: true }))).toBe(ErrorCode.NOT_FOUND);
      const [{ runs, conversations }] = await h.rows(
        `SELECT (SELECT count(*)::int FROM runs WHERE user_id = 'olivia') AS runs,
                (SELECT count(*)::int FROM conversations WHERE user_id = 'olivia') AS conversations`,
      );
      expect({ runs, conversations }).toEqual({ runs: 1, conversations: 1 });
    });

    it('yields one run for two identical admits at the same moment', async () => {
      for (let round = 0; round < 5; round++) {
        const req = h.admitRequest('frank', { clientMessageId: `same-${round}` });
        const replies = await Promise.all([h.call(PERSISTENCE_RPC.admitRun, req), h.call(PERSISTENCE_RPC.admitRun, req)]);
        expect(replies[0].runId).toBe(req.runId);
        expect(replies[1].runId).toBe(req.runId);
        expect(replies.filter((r) => r.duplicate)).toHaveLength(1);
      }
      // Without a clientMessageId (a new conversation's first message, admitted in one statement): the same.
      for (let round = 0; round < 5; round++) {
        const req = h.admitRequest('frank');
        const replies = await Promise.all([h.call(PERSISTENCE_RPC.admitRun, req), h.call(PERSISTENCE_RPC.admitRun, req)]);
        expect(replies.map((r) => [r.runId, r.conversationId])).toEqual([
          [req.runId, req.newConversationId],
          [req.runId, req.newConversationId],
        ]);
        expect(replies.filter((r) => r.duplicate)).toHaveLength(1);
      }
      // Concurrent retries that each drew their own ids: still one run, and no orphan conversation.
      const concurrent = await Promise.all([1, 2, 3].map(() => h.admit('grace', { clientMessageId: 'burst' })));
      expect(new Set(concurrent.map((r) => r.runId)).size).toBe(1);
      expect(new Set(concurrent.map((r) => r.conversationId)).size).toBe(1);
      const [{ runs, conversations }] = await h.rows(
        `SELECT (SELECT count(*)::int FROM runs WHERE user_id = 'grace') AS runs,
                (SELECT count(*)::int FROM conversations WHERE user_id = 'grace') AS conversations`,
      );
      expect({ runs, conversations }).toEqual({ runs: 1, conversations: 1 });
    });

    it('lets a clientMessageId older than 24 hours start a new run', async () => {
      const old = await h.admit('heidi', { clientMessageId: 'yesterday' });
      await h.rows(`UPDATE runs SET created_at = now() - interval '25 hours' WHERE id = $1`, [old.runId]);
      const fresh = await h.admit('heidi', { clientMessageId: 'yesterday' });
      expect(fresh.duplicate).toBe(false);
      expect(fresh.runId).not.toBe(old.runId);
      const [released] = await h.rows(`SELECT client_message_id FROM runs WHERE id = $1`, [old.runId]);
      expect(released.client_message_id).toBeNull();
    });

    it('refuses onBusy "reject" with RUN_IN_PROGRESS while the conversation has an active run', async () => {
      const first = await h.admit('ivan');
      const reject = { traceLevel: 'none', stream: false, onBusy: 'reject' } as const;
      expect(await errorCodeOf(h.admit('ivan', { conversationId: first.conversationId, options: reject }))).toBe(ErrorCode.RUN_IN_PROGRESS);
      // enqueue is accepted behind it
      const queued = await h.admit('ivan', { conversationId: first.conversationId });
      expect(queued.duplicate).toBe(false);
      // once no run is active any more, reject is accepted too
      await h.rows(`UPDATE runs SET status = 'completed' WHERE conversation_id = $1`, [first.conversationId]);
      const accepted = await h.admit('ivan', { conversationId: first.conversationId, options: reject });
      expect(accepted.status).toBe('queued');
      expect(accepted.options.onBusy).toBe('reject');
    });

    it('refuses malformed requests with INVALID_INPUT: the client before sending, and the server itself', async () => {
      const malformed: unknown[] = [
        { userId: 'x' },
        h.admitRequest('x', { runId: 'not-a-uuid' }),
        h.admitRequest('x', { content: '   ' }),
        h.admitRequest('x\u0000y'),
        h.admitRequest(''),
        h.admitRequest('u'.repeat(129)),
        h.admitRequest('x', { clientMessageId: 'k'.repeat(65) }),
        { ...h.admitRequest('x'), extra: true },
      ];
      for (const request of malformed) {
        const refused = (await h.call(PERSISTENCE_RPC.admitRun, request as AdmitRunRequest).catch((e: unknown) => e)) as RpcCallError;
        expect({ request, code: refused.code, reason: refused.reason }).toEqual({
          request,
          code: ErrorCode.INVALID_INPUT,
          reason: RPC_FAILURE.badRequest,
        });
        expect({ request, reply: await h.raw(PERSISTENCE_RPC.admitRun, request) }).toMatchObject({
          request,
          reply: { ok: false, error: { code: ErrorCode.INVALID_INPUT } },
        });
      }
      expect(await h.raw(PERSISTENCE_RPC.ping, 'not json at all')).toMatchObject({ ok: false, error: { code: ErrorCode.INVALID_INPUT } });
      const [{ count }] = await h.rows(`SELECT count(*)::int AS count FROM runs WHERE user_id IN ('x', '')`);
      expect(count).toBe(0);
      // and it is still serving
      expect((await h.admit('x')).duplicate).toBe(false);
    });

    it('takes a user id per the user-id rule: any printable text, `.`, `*`, `>` and spaces included', async () => {
      for (const userId of ['a.b', '*', 'user >1', 'ü'.repeat(128), '😀'.repeat(128)]) {
        expect((await h.admit(userId)).duplicate).toBe(false);
      }
    });
  });

  describe('run.get and run.abandon', () => {
    it('returns the user’s run snapshot, and NOT_FOUND for anyone else or an unknown run', async () => {
      const admitted = await h.admit('judy');
      const snapshot = await h.call(PERSISTENCE_RPC.getRun, { userId: 'judy', runId: admitted.runId });
      expect(snapshot).toEqual({
        runId: admitted.runId,
        conversationId: admitted.conversationId,
        status: 'queued',
        progress: 0,
        lastEventId: null,
        startedAt: null,
        endedAt: null,
      });
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.getRun, { userId: 'mallory', runId: admitted.runId }))).toBe(ErrorCode.NOT_FOUND);
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.getRun, { userId: 'judy', runId: randomUUID() }))).toBe(ErrorCode.NOT_FOUND);
      // Not a UUID: refused by the contract, on both sides.
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.getRun, { userId: 'judy', runId: 'nope' }))).toBe(ErrorCode.INVALID_INPUT);
      expect(await h.raw(PERSISTENCE_RPC.getRun, { userId: 'judy', runId: 'nope' })).toMatchObject({
        ok: false,
        error: { code: ErrorCode.INVALID_INPUT },
      });
    });

    it('fails a queued run that could not be handed on, and only a queued one', async () => {
      const admitted = await h.admit('ken');
      expect(await h.call(PERSISTENCE_RPC.abandonRun, { userId: 'mallory', runId: admitted.runId })).toEqual({ abandoned: false });
      expect(await h.call(PERSISTENCE_RPC.abandonRun, { userId: 'ken', runId: admitted.runId })).toEqual({ abandoned: true });
      const snapshot = await h.call(PERSISTENCE_RPC.getRun, { userId: 'ken', runId: admitted.runId });
      expect(snapshot.status).toBe('failed');
      expect(snapshot.endedAt).not.toBeNull();
      expect(await h.call(PERSISTENCE_RPC.abandonRun, { userId: 'ken', runId: admitted.runId })).toEqual({ abandoned: false });
      // a failed run no longer blocks onBusy: reject
      const next = await h.admit('ken', {
        conversationId: admitted.conversationId,
        options: { traceLevel: 'none', stream: false, onBusy: 'reject' },
      });
      expect(next.duplicate).toBe(false);
    });
  });

  describe('conversation.list', () => {
    it('pages through the user’s conversations, newest updatedAt first, with an opaque cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await h.admit('laura', { content: `question ${i}` })).conversationId);
      await h.admit('mallory'); // someone else's
      // Two conversations with the very same updated_at: the id breaks the tie.
      await h.rows(`UPDATE conversations SET updated_at = (SELECT updated_at FROM conversations WHERE id = $1) WHERE id = $2`, [
        ids[3],
        ids[2],
      ]);

      const seen: ListConversationsReply['conversations'] = [];
      let before: string | undefined;
      let pages = 0;
      do {
        const page: ListConversationsReply = await h.call(PERSISTENCE_RPC.listConversations, {
          userId: 'laura',
          limit: 2,
          ...(before ? { before } : {}),
        });
        expect(page.conversations.length).toBeLessThanOrEqual(2);
        seen.push(...page.conversations);
        before = page.nextBefore ?? undefined;
        pages += 1;
      } while (before);

      expect(pages).toBe(3);
      expect(seen.map((c) => c.id).sort()).toEqual([...ids].sort());
      const expected = await h.rows<{ id: string }>(
        `SELECT id FROM conversations WHERE user_id = 'laura' ORDER BY updated_at DESC, id DESC`,
      );
      expect(seen.map((c) => c.id)).toEqual(expected.map((r) => r.id));
      expect(seen.find((c) => c.id === ids[0])?.title).toBe('question 0');
    });

    it('answers an empty page for a user without conversations, and INVALID_INPUT for a bad cursor', async () => {
      expect(await h.call(PERSISTENCE_RPC.listConversations, { userId: 'nobody', limit: 10 })).toEqual({
        conversations: [],
        nextBefore: null,
      });
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.listConversations, { userId: 'laura', limit: 10, before: 'garbage!' }))).toBe(
        ErrorCode.INVALID_INPUT,
      );
    });
  });

  describe('conversation.messages and conversation.history', () => {
    it('lists a conversation’s messages oldest first, for its owner only', async () => {
      const admitted = await h.admit('mike');
      await h.rows(
        `INSERT INTO messages (id, conversation_id, run_id, role, content, metadata, created_at) VALUES
           ($1, $3, $4, 'user', 'hello', NULL, now() - interval '2 seconds'),
           ($2, $3, $4, 'assistant', 'hi there', '{"intent":"chitchat","sources":[]}', now() - interval '1 second')`,
        [randomUUID(), randomUUID(), admitted.conversationId, admitted.runId],
      );
      await h.linkAsOneBranch(admitted.conversationId);
      const { messages, nextBefore } = await h.call(PERSISTENCE_RPC.listMessages, {
        userId: 'mike',
        conversationId: admitted.conversationId,
        limit: 50,
      });
      expect(nextBefore).toBeNull();
      expect(messages.map((m) => [m.role, m.content])).toEqual([
        ['user', 'hello'],
        ['assistant', 'hi there'],
      ]);
      expect(messages[1]).toMatchObject({
        conversationId: admitted.conversationId,
        runId: admitted.runId,
        metadata: { intent: 'chitchat', sources: [] },
      });

      const foreign = await errorOf(
        h.call(PERSISTENCE_RPC.listMessages, { userId: 'mallory', conversationId: admitted.conversationId, limit: 50 }),
      );
      const missing = await errorOf(h.call(PERSISTENCE_RPC.listMessages, { userId: 'mike', conversationId: randomUUID(), limit: 50 }));
      expect(foreign).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Conversation not found' });
      expect(missing).toEqual(foreign);

      const history = await h.call(PERSISTENCE_RPC.history, {
        conversationId: admitted.conversationId,
        limit: 1,
      });
      expect(history.messages).toEqual([{ role: 'assistant', content: 'hi there' }]);
      const all = await h.call(PERSISTENCE_RPC.history, {
        conversationId: admitted.conversationId,
        limit: 10,
      });
      expect(all.messages.map((m) => m.content)).toEqual(['hello', 'hi there']);
      expect(await h.call(PERSISTENCE_RPC.history, { conversationId: randomUUID(), limit: 10 })).toEqual({ messages: [] });
    });

    it('answers history once the run admitted before this one has ended and its messages are stored', async () => {
      const earlier = await h.admit('nina');
      const later = await h.admit('nina', { conversationId: earlier.conversationId });
      await h.rows(`UPDATE runs SET status = 'running' WHERE id = $1`, [earlier.runId]);
      const asked = Date.now();
      const answer = h.call(PERSISTENCE_RPC.history, {
        conversationId: earlier.conversationId,
        runId: later.runId,
        limit: 10,
      });
      await sleep(200);
      await h.rows(
        `INSERT INTO messages (id, conversation_id, run_id, role, content, metadata, created_at) VALUES
           ($1, $3, $4, 'user', 'first question', NULL, now() - interval '1 second'),
           ($2, $3, $4, 'assistant', 'first answer', NULL, now())`,
        [randomUUID(), randomUUID(), earlier.conversationId, earlier.runId],
      );
      await h.linkAsOneBranch(earlier.conversationId);
      await h.rows(`UPDATE runs SET status = 'completed' WHERE id = $1`, [earlier.runId]);
      expect((await answer).messages).toEqual([
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
      ]);
      expect(Date.now() - asked).toBeGreaterThanOrEqual(200);
      // The earlier run itself (nothing before it) does not wait; it started the conversation, so
      // its branch was fixed at admission, at the root: the messages stored since are not its context.
      const ownAsked = Date.now();
      const own = await h.call(PERSISTENCE_RPC.history, {
        conversationId: earlier.conversationId,
        runId: earlier.runId,
        limit: 1,
      });
      expect(own.messages).toEqual([]);
      expect(Date.now() - ownAsked).toBeLessThan(2000); // HISTORY_SETTLE_MS is 3 s
    });
  });

  describe('conversation.messages paging and bounds', () => {
    /** Inserts `count` messages straight into Postgres, a second apart, oldest first; resolves with their ids in that order. */
    async function fill(conversationId: string, count: number, content: (i: number) => string): Promise<string[]> {
      const ids = Array.from({ length: count }, () => randomUUID());
      await h.rows(
        `INSERT INTO messages (id, conversation_id, run_id, role, content, metadata, created_at)
         SELECT id, $2, NULL, CASE WHEN n % 2 = 1 THEN 'user' ELSE 'assistant' END, content, NULL,
                now() - interval '1 day' + n * interval '1 second'
           FROM unnest($1::uuid[], $3::text[]) WITH ORDINALITY AS t(id, content, n)`,
        [ids, conversationId, ids.map((_, i) => content(i))],
      );
      await h.linkAsOneBranch(conversationId);
      return ids;
    }

    /** Every page, newest first, following nextBefore. */
    async function allPages(userId: string, conversationId: string, limit: number) {
      const pages: Array<{ ids: string[]; nextBefore: string | null }> = [];
      let before: string | undefined;
      do {
        const page = await h.call(PERSISTENCE_RPC.listMessages, { userId, conversationId, limit, before });
        pages.push({ ids: page.messages.map((m) => m.id), nextBefore: page.nextBefore });
        before = page.nextBefore ?? undefined;
      } while (before && pages.length < 100);
      return pages;
    }

    it('pages newest first: each page oldest first, nextBefore its oldest id, null on the last', async () => {
      const { conversationId } = await h.admit('pia');
      const ids = await fill(conversationId, 7, (i) => `message ${i}`);
      const pages = await allPages('pia', conversationId, 3);
      expect(pages).toEqual([
        { ids: ids.slice(4, 7), nextBefore: ids[4] },
        { ids: ids.slice(1, 4), nextBefore: ids[1] },
        { ids: ids.slice(0, 1), nextBefore: null },
      ]);
      // Exactly `limit` left: no empty page after it.
      expect((await allPages('pia', conversationId, 7)).map((p) => p.nextBefore)).toEqual([null]);
      // Two messages stored in the same microsecond: the id breaks the tie, nothing is skipped or repeated.
      await h.rows(`UPDATE messages SET created_at = (SELECT created_at FROM messages WHERE id = $1) WHERE id = $2`, [ids[2], ids[3]]);
      const tied = (await allPages('pia', conversationId, 1)).flatMap((p) => p.ids);
      expect([...tied].sort()).toEqual([...ids].sort());
      expect(new Set(tied).size).toBe(7);
    });

    it('answers NOT_FOUND for a `before` of another conversation or none, and refuses a limit over 200', async () => {
      const mine = await h.admit('quinn');
      const other = await h.admit('quinn');
      const [otherMessage] = await fill(other.conversationId, 1, () => 'elsewhere');
      await fill(mine.conversationId, 2, () => 'here');
      for (const before of [otherMessage, randomUUID()]) {
        expect(
          await errorCodeOf(
            h.call(PERSISTENCE_RPC.listMessages, { userId: 'quinn', conversationId: mine.conversationId, limit: 5, before }),
          ),
        ).toBe(ErrorCode.NOT_FOUND);
      }
      const tooMany = { userId: 'quinn', conversationId: mine.conversationId, limit: 201 };
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.listMessages, tooMany))).toBe(ErrorCode.INVALID_INPUT);
      expect(await h.raw(PERSISTENCE_RPC.listMessages, tooMany)).toMatchObject({ ok: false, error: { code: ErrorCode.INVALID_INPUT } });
    });

    it('pages a conversation larger than NATS’s max_payload, and keeps the model’s context under it', async () => {
      const { conversationId } = await h.admit('rosa');
      // 40 answers of 8000 emoji: 32,000 bytes each, 1.28 MB together (NATS allows 1 MiB per message).
      const ids = await fill(conversationId, 40, (i) => `${i}:${'😀'.repeat(8000)}`);
      const pages = await allPages('rosa', conversationId, 200);
      expect(pages.length).toBeGreaterThan(1);
      expect([...pages].reverse().flatMap((p) => p.ids)).toEqual(ids);
      expect(pages.slice(0, -1).every((p) => p.nextBefore === p.ids[0])).toBe(true);
      expect(pages.at(-1)?.nextBefore).toBeNull();
      const history = await h.call(PERSISTENCE_RPC.history, { conversationId, limit: 50 });
      expect(history.messages.length).toBeGreaterThan(0);
      expect(history.messages.length).toBeLessThan(40);
      // The newest ones, oldest first.
      expect(history.messages.at(-1)?.content.startsWith('39:')).toBe(true);
      expect(history.messages[0].content.startsWith(`${40 - history.messages.length}:`)).toBe(true);
    });

    it('answers a reply too large to send with a clear error, and goes on answering', async () => {
      const { conversationId } = await h.admit('sam');
      const [older] = await fill(conversationId, 1, () => 'an ordinary message');
      // One stored message larger than a NATS message: only written here, behind the service's back.
      const big = randomUUID();
      await h.rows(
        `INSERT INTO messages (id, conversation_id, run_id, role, content, metadata, created_at) VALUES ($1, $2, NULL, 'assistant', $3, NULL, now())`,
        [big, conversationId, 'x'.repeat(1_100_000)],
      );
      await h.linkAsOneBranch(conversationId);
      const refused = await h.call(PERSISTENCE_RPC.listMessages, { userId: 'sam', conversationId, limit: 50 }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: ErrorCode.INTERNAL, reason: RPC_FAILURE.replyTooLarge });
      expect((refused as Error).message).toMatch(/too large/);
      // Still up: the page before that message, and everything else.
      const rest = await h.call(PERSISTENCE_RPC.listMessages, { userId: 'sam', conversationId, limit: 50, before: big });
      expect(rest).toEqual({ messages: [expect.objectContaining({ id: older, content: 'an ordinary message' })], nextBefore: null });
      expect(await h.call(PERSISTENCE_RPC.ping, {})).toEqual({ ok: true });
    });
  });

  describe('ping', () => {
    it('answers once the database answers', async () => {
      expect(await h.call(PERSISTENCE_RPC.ping, {})).toEqual({ ok: true });
    });
  });
});
