import { randomUUID } from 'node:crypto';
import { feedbackTrace, PgKnowledgeBase, type RankedPassage } from '@herald/agents';
import { ErrorCode, PERSISTENCE_RPC } from '@herald/contracts';
import { Pool } from 'pg';
import { errorCodeOf, errorOf, PersistenceHarness } from '../../support/persistence-harness';

/**
 * Feedback on real Postgres through the persistence service (feedback.set, feedback.list, the
 * messages listing), and the learning loop: the worker's PgKnowledgeBase, on a read-only pool
 * like the worker's, ranking passages with the ratings persistence stored.
 */
describe('feedback', () => {
  let h: PersistenceHarness;
  let pool: Pool;
  let kb: PgKnowledgeBase;

  beforeAll(async () => {
    h = await PersistenceHarness.start();
    pool = new Pool({ connectionString: h.databaseUrl, options: '-c default_transaction_read_only=on', max: 2 });
    kb = new PgKnowledgeBase(pool, { feedback: { maxBoost: 0.5, priorVotes: 1 } });
  });
  afterAll(async () => {
    await pool?.end();
    await h?.close();
  });

  /** A completed exchange of `userId`: their question and an answer citing `sources`; resolves with both ids. */
  async function exchange(userId: string, question = 'What is the quokka ledger?', sources: string[] = []) {
    const admitted = await h.admit(userId, { content: question });
    const metadata = { intent: 'question', sources: sources.map((id) => ({ id, title: id, score: 0.5 })) };
    await h.rows(
      `INSERT INTO messages (id, conversation_id, run_id, role, content, metadata, created_at) VALUES
         ($1, $3, $4, 'user', $5, NULL, now() - interval '1 second'),
         ($2, $3, $4, 'assistant', 'An answer.', $6, now())`,
      [admitted.userMessageId, admitted.messageId, admitted.conversationId, admitted.runId, question, JSON.stringify(metadata)],
    );
    await h.linkAsOneBranch(admitted.conversationId);
    return { conversationId: admitted.conversationId, userMessageId: admitted.userMessageId, messageId: admitted.messageId };
  }

  const rate = (userId: string, messageId: string, rating: 'up' | 'down' | null, comment?: string) =>
    h.call(PERSISTENCE_RPC.setFeedback, { userId, messageId, rating, ...(comment ? { comment } : {}) });

  describe('feedback.set and the messages listing', () => {
    it('stores a rating, replaces it, removes it, and shows it on the assistant message only', async () => {
      const ex = await exchange('fiona', 'How does the quokka ledger keep records?', ['doc#1', 'doc#2']);
      const first = await rate('fiona', ex.messageId, 'up', 'Clear answer');
      expect(first.feedback).toMatchObject({ rating: 'up', comment: 'Clear answer' });
      const stored = await h.rows(
        `SELECT user_id, rating, comment, source_ids, question_lexemes FROM message_feedback WHERE message_id = $1`,
        [ex.messageId],
      );
      expect(stored).toEqual([
        {
          user_id: 'fiona',
          rating: 'up',
          comment: 'Clear answer',
          source_ids: ['doc#1', 'doc#2'],
          question_lexemes: expect.arrayContaining(['quokka', 'ledger', 'record']),
        },
      ]);

      const second = await rate('fiona', ex.messageId, 'down');
      expect(second.feedback).toEqual({ rating: 'down', updatedAt: expect.any(String) });
      expect(Date.parse(second.feedback!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(first.feedback!.updatedAt));
      const list = await h.call(PERSISTENCE_RPC.listMessages, { userId: 'fiona', conversationId: ex.conversationId, limit: 50 });
      expect(list.messages.map((m) => [m.role, m.feedback])).toEqual([
        ['user', undefined],
        ['assistant', second.feedback],
      ]);
      expect(await h.rows(`SELECT count(*)::int AS n FROM message_feedback WHERE message_id = $1`, [ex.messageId])).toEqual([{ n: 1 }]);

      expect(await rate('fiona', ex.messageId, null)).toEqual({ feedback: null });
      // Removing what is not there is no error either.
      expect(await rate('fiona', ex.messageId, null)).toEqual({ feedback: null });
      const after = await h.call(PERSISTENCE_RPC.listMessages, { userId: 'fiona', conversationId: ex.conversationId, limit: 50 });
      expect(after.messages[1].feedback).toBeNull();
      expect(await h.rows(`SELECT 1 FROM message_feedback WHERE message_id = $1`, [ex.messageId])).toEqual([]);
    });

    it('answers NOT_FOUND, identically, for an unknown message, a user message and another user’s answer; stores nothing', async () => {
      const ex = await exchange('gina');
      const errors = [
        await errorOf(rate('gina', randomUUID(), 'up')),
        await errorOf(rate('gina', ex.userMessageId, 'up')),
        await errorOf(rate('mallory', ex.messageId, 'down')),
        await errorOf(rate('mallory', ex.messageId, null)),
      ];
      for (const err of errors) expect(err).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Message not found' });
      expect(await h.rows(`SELECT 1 FROM message_feedback WHERE message_id = ANY($1::uuid[])`, [[ex.messageId, ex.userMessageId]])).toEqual(
        [],
      );
      // The contract refuses what the gateway would never send.
      expect(await h.raw(PERSISTENCE_RPC.setFeedback, { userId: 'gina', messageId: 'nope', rating: 'up' })).toMatchObject({
        ok: false,
        error: { code: ErrorCode.INVALID_INPUT },
      });
      expect(await h.raw(PERSISTENCE_RPC.setFeedback, { userId: 'gina', messageId: ex.messageId, rating: 'meh' })).toMatchObject({
        ok: false,
        error: { code: ErrorCode.INVALID_INPUT },
      });
    });
  });

  describe('feedback.list (the admin export)', () => {
    it('pages the current ratings changed since a time, oldest change first, with their messages', async () => {
      const since = (await h.rows<{ now: Date }>(`SELECT now()`))[0].now.toISOString();
      const exchanges = [];
      for (let i = 0; i < 5; i++) exchanges.push(await exchange(`exporter-${i}`));
      for (const [i, ex] of exchanges.entries()) await rate(`exporter-${i}`, ex.messageId, i % 2 ? 'up' : 'down', `comment ${i}`);
      // Removed ratings are not current ones.
      await rate('exporter-4', exchanges[4].messageId, null);

      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await h.call(PERSISTENCE_RPC.listFeedback, { since, limit: 2, ...(after ? { after } : {}) });
        expect(page.feedback.length).toBeLessThanOrEqual(2);
        for (const f of page.feedback) {
          expect(Date.parse(f.at)).toBeGreaterThanOrEqual(Date.parse(since));
          seen.push(f.messageId);
        }
        after = page.nextAfter ?? undefined;
        pages++;
      } while (after && pages < 10);
      expect(seen).toEqual(exchanges.slice(0, 4).map((ex) => ex.messageId));

      const all = await h.call(PERSISTENCE_RPC.listFeedback, { since, limit: 100 });
      expect(all.nextAfter).toBeNull();
      expect(all.feedback[1]).toEqual({
        messageId: exchanges[1].messageId,
        userId: 'exporter-1',
        rating: 'up',
        comment: 'comment 1',
        at: expect.any(String),
        message: { id: exchanges[1].messageId, conversationId: exchanges[1].conversationId, content: 'An answer.' },
      });
      const future = await h.call(PERSISTENCE_RPC.listFeedback, { since: new Date(Date.now() + 3_600_000).toISOString(), limit: 100 });
      expect(future).toEqual({ feedback: [], nextAfter: null });
      expect(await errorCodeOf(h.call(PERSISTENCE_RPC.listFeedback, { since, limit: 10, after: 'garbage!' }))).toBe(
        ErrorCode.INVALID_INPUT,
      );
    });
  });

  describe('the learning loop', () => {
    /** Two passages whose full-text scores for "quokka ledger" are within 25 % of each other (0.9 and 0.7), and a third well below. */
    beforeAll(async () => {
      await h.rows(`INSERT INTO kb_documents (id, title, source) VALUES ('quokka', 'Quokka notes', 'test')`);
      await h.rows(
        `INSERT INTO kb_chunks (id, document_id, title, content) VALUES
           ('quokka#1', 'quokka', 'Quokka notes', 'Quokka ledger keeps every record. Quokka ledger is durable.'),
           ('quokka#2', 'quokka', 'Quokka notes', 'Quokka ledger keeps every record. Quokka big ledger is durable.'),
           ('quokka#3', 'quokka', 'Quokka notes', 'The ledger of a quokka, and many other words that dilute how dense the cover is here.')`,
      );
    });
    const ids = (found: RankedPassage[]) => found.map((p) => p.id);
    const QUERY = 'quokka ledger';

    it('ranks a passage cited by an answer rated down below its neighbour, for a similar question, and shows it in the trace', async () => {
      const before = await kb.search(QUERY, 5);
      expect(ids(before).slice(0, 2)).toEqual(['quokka#1', 'quokka#2']);
      expect(before.every((p) => p.feedback === undefined)).toBe(true);

      const ex = await exchange('henry', 'What does the quokka ledger do?', ['quokka#1']);
      await rate('henry', ex.messageId, 'down', 'Wrong passage');
      const after = await kb.search(QUERY, 5);
      expect(ids(after).slice(0, 2)).toEqual(['quokka#2', 'quokka#1']);
      const demoted = after.find((p) => p.id === 'quokka#1')!;
      expect(demoted.feedback!.baseScore).toBeCloseTo(before[0].score, 5);
      expect(demoted.score).toBeLessThan(demoted.feedback!.baseScore);
      expect(feedbackTrace(after)).toEqual([
        expect.objectContaining({ id: 'quokka#1', before: expect.any(Number), after: expect.any(Number), down: expect.any(Number) }),
      ]);

      // A question about something else is not moved by that rating.
      const unrelated = await kb.search('every record durable', 5);
      expect(unrelated.every((p) => p.feedback === undefined)).toBe(true);

      // Taking the rating back restores the order.
      await rate('henry', ex.messageId, null);
      expect(ids(await kb.search(QUERY, 5)).slice(0, 2)).toEqual(['quokka#1', 'quokka#2']);
    });

    it('lifts a passage cited by answers rated up', async () => {
      const before = await kb.search(QUERY, 5);
      const third = before.find((p) => p.id === 'quokka#3')!;
      const ex = await exchange('iris', 'quokka ledger?', ['quokka#3']);
      await rate('iris', ex.messageId, 'up');
      const lifted = (await kb.search(QUERY, 5)).find((p) => p.id === 'quokka#3')!;
      expect(lifted.score).toBeGreaterThan(third.score);
      expect(lifted.feedback).toMatchObject({ baseScore: third.score, up: expect.any(Number), down: 0 });
      await rate('iris', ex.messageId, null);
    });

    it('bounds it: one user’s many ratings count as one vote, and no number of votes buries a passage', async () => {
      const one = await exchange('jack', 'quokka ledger', ['quokka#1']);
      await rate('jack', one.messageId, 'down');
      const oneVote = (await kb.search(QUERY, 5)).find((p) => p.id === 'quokka#1')!;
      for (let i = 0; i < 10; i++) {
        const ex = await exchange('jack', 'quokka ledger', ['quokka#1']);
        await rate('jack', ex.messageId, 'down');
      }
      const manyFromOne = (await kb.search(QUERY, 5)).find((p) => p.id === 'quokka#1')!;
      expect(manyFromOne.score).toBeCloseTo(oneVote.score, 6);
      // One user moves a score by at most maxBoost / (1 + priorVotes) = 25 %.
      expect(manyFromOne.score).toBeGreaterThanOrEqual(0.75 * manyFromOne.feedback!.baseScore - 1e-9);

      for (let i = 0; i < 30; i++) {
        const ex = await exchange(`crowd-${i}`, 'quokka ledger', ['quokka#1']);
        await rate(`crowd-${i}`, ex.messageId, 'down');
      }
      const crowd = await kb.search(QUERY, 5);
      const buried = crowd.find((p) => p.id === 'quokka#1');
      expect(buried).toBeDefined();
      expect(buried!.score).toBeGreaterThan(0.5 * buried!.feedback!.baseScore);
      expect(buried!.score).toBeLessThan(manyFromOne.score);
    });
  });
});
