import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  PERSISTENCE_RPC,
  type HistoryMessage,
  type ListConversationsReply,
  type RunSnapshot,
  type StoredMessage,
} from '@herald/contracts';
import { errorCodeOf, errorOf, PersistenceHarness } from './support/persistence-harness';

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
      const reply = await h.call<Record<string, unknown>>(PERSISTENCE_RPC.admitRun, req);
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
      for (const conversationId of [owned.conversationId, randomUUID(), 'not-a-uuid']) {
        errors.push(await errorOf(h.admit('mallory', { conversationId })));
      }
      expect(errors[0]).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Conversation not found' });
      expect(errors[1]).toEqual(errors[0]);
      expect(errors[2]).toEqual(errors[0]);
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
        const replies = await Promise.all([
          h.call<{ runId: string; duplicate: boolean }>(PERSISTENCE_RPC.admitRun, req),
          h.call<{ runId: string; duplicate: boolean }>(PERSISTENCE_RPC.admitRun, req),
        ]);
        expect(replies[0].runId).toBe(req.runId);
        expect(replies[1].runId).toBe(req.runId);
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

    it('refuses malformed requests with INVALID_INPUT', async () => {
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.admitRun, { userId: 'x' }))).toBe(ErrorCode.INVALID_INPUT);
      expect(await errorCodeOf(h.admit('x', { runId: 'not-a-uuid' }))).toBe(ErrorCode.INVALID_INPUT);
      expect(await errorCodeOf(h.admit('x', { content: '   ' }))).toBe(ErrorCode.INVALID_INPUT);
      expect(await errorCodeOf(h.admit('x\u0000y'))).toBe(ErrorCode.INVALID_INPUT);
      expect(await errorCodeOf(h.admit('x', { clientMessageId: 'k'.repeat(65) }))).toBe(ErrorCode.INVALID_INPUT);
      // and it is still serving
      expect((await h.admit('x')).duplicate).toBe(false);
    });
  });

  describe('run.get and run.abandon', () => {
    it('returns the user’s run snapshot, and NOT_FOUND for anyone else or an unknown run', async () => {
      const admitted = await h.admit('judy');
      const snapshot = await h.call<RunSnapshot>(PERSISTENCE_RPC.getRun, { userId: 'judy', runId: admitted.runId });
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
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.getRun, { userId: 'judy', runId: 'nope' }))).toBe(ErrorCode.NOT_FOUND);
    });

    it('fails a queued run that could not be handed on, and only a queued one', async () => {
      const admitted = await h.admit('ken');
      expect(await h.call(PERSISTENCE_RPC.abandonRun, { userId: 'mallory', runId: admitted.runId })).toEqual({ abandoned: false });
      expect(await h.call(PERSISTENCE_RPC.abandonRun, { userId: 'ken', runId: admitted.runId })).toEqual({ abandoned: true });
      const snapshot = await h.call<RunSnapshot>(PERSISTENCE_RPC.getRun, { userId: 'ken', runId: admitted.runId });
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
      const { messages } = await h.call<{ messages: StoredMessage[] }>(PERSISTENCE_RPC.listMessages, {
        userId: 'mike',
        conversationId: admitted.conversationId,
      });
      expect(messages.map((m) => [m.role, m.content])).toEqual([
        ['user', 'hello'],
        ['assistant', 'hi there'],
      ]);
      expect(messages[1]).toMatchObject({
        conversationId: admitted.conversationId,
        runId: admitted.runId,
        metadata: { intent: 'chitchat', sources: [] },
      });

      const foreign = await errorOf(h.call(PERSISTENCE_RPC.listMessages, { userId: 'mallory', conversationId: admitted.conversationId }));
      const missing = await errorOf(h.call(PERSISTENCE_RPC.listMessages, { userId: 'mike', conversationId: randomUUID() }));
      expect(foreign).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Conversation not found' });
      expect(missing).toEqual(foreign);

      const history = await h.call<{ messages: HistoryMessage[] }>(PERSISTENCE_RPC.history, {
        conversationId: admitted.conversationId,
        limit: 1,
      });
      expect(history.messages).toEqual([{ role: 'assistant', content: 'hi there' }]);
      const all = await h.call<{ messages: HistoryMessage[] }>(PERSISTENCE_RPC.history, {
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
      const answer = h.call<{ messages: HistoryMessage[] }>(PERSISTENCE_RPC.history, {
        conversationId: earlier.conversationId,
        runId: later.runId,
        limit: 10,
      });
      await new Promise((r) => setTimeout(r, 200));
      await h.rows(
        `INSERT INTO messages (id, conversation_id, run_id, role, content, metadata, created_at) VALUES
           ($1, $3, $4, 'user', 'first question', NULL, now() - interval '1 second'),
           ($2, $3, $4, 'assistant', 'first answer', NULL, now())`,
        [randomUUID(), randomUUID(), earlier.conversationId, earlier.runId],
      );
      await h.rows(`UPDATE runs SET status = 'completed' WHERE id = $1`, [earlier.runId]);
      expect((await answer).messages).toEqual([
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
      ]);
      expect(Date.now() - asked).toBeGreaterThanOrEqual(200);
      // The earlier run itself (nothing before it) and a request without a run do not wait.
      const own = await h.call<{ messages: HistoryMessage[] }>(PERSISTENCE_RPC.history, {
        conversationId: earlier.conversationId,
        runId: earlier.runId,
        limit: 1,
      });
      expect(own.messages).toEqual([{ role: 'assistant', content: 'first answer' }]);
    });
  });

  describe('ping', () => {
    it('answers once the database answers', async () => {
      expect(await h.call(PERSISTENCE_RPC.ping, {})).toEqual({ ok: true });
    });
  });
});
