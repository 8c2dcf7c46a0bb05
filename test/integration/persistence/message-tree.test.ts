import { randomUUID } from 'node:crypto';
import { type AdmitRunReply, type AdmitRunRequest, ErrorCode, PERSISTENCE_RPC, type StoredMessage } from '@herald/contracts';
import {
  createDataSource,
  MESSAGE_TREE_BACKFILL_BATCH,
  MessageTree1795334000030,
  quoteIdentifier,
  runMigrations,
  withDatabase,
} from '@herald/db';
import { Client } from 'pg';
import { errorOf, PersistenceHarness } from '../../support/persistence-harness';
import { waitFor } from '../../support/polling';

/** Conversations as trees of messages (PROTOCOL.md §10), on a real Postgres through persistence's RPCs. */
describe('message tree', () => {
  let h: PersistenceHarness;

  beforeAll(async () => {
    h = await PersistenceHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Completes an admitted run as the orchestrator would (its answer, then the terminal event); resolves once stored. */
  async function complete(userId: string, reply: AdmitRunReply, answer: string): Promise<void> {
    const run = { userId, conversationId: reply.conversationId, runId: reply.runId };
    await h.publish(run, 'orchestration_started', {}, 0.05);
    await h.publish(
      run,
      'message',
      { messageId: reply.messageId, role: 'assistant', content: answer, metadata: { intent: 'question', sources: [] } },
      0.95,
    );
    await h.publish(run, 'orchestration_completed', { durationMs: 10 }, 1);
    await waitFor(async () => (await h.rows(`SELECT 1 FROM messages WHERE id = $1`, [reply.messageId])).length > 0, `answer ${answer}`);
  }

  /** Admits and completes a run; resolves with its reply. */
  async function ask(userId: string, over: Partial<AdmitRunRequest>, answer: string): Promise<AdmitRunReply> {
    const reply = await h.admit(userId, over);
    await complete(userId, reply, answer);
    return reply;
  }

  const branch = async (userId: string, conversationId: string, extra: { leaf?: string; before?: string; limit?: number } = {}) =>
    (await h.call(PERSISTENCE_RPC.listMessages, { userId, conversationId, limit: extra.limit ?? 50, ...extra })).messages;
  const contents = (messages: StoredMessage[]) => messages.map((m) => m.content);
  const historyOf = async (conversationId: string, runId: string) =>
    (await h.call(PERSISTENCE_RPC.history, { conversationId, runId, limit: 10 })).messages.map((m) => m.content);
  const leafOf = async (conversationId: string) =>
    (await h.rows<{ active_leaf_id: string | null }>(`SELECT active_leaf_id FROM conversations WHERE id = $1`, [conversationId]))[0]
      .active_leaf_id;

  it('edits a message (the first one too), regenerates an answer, and lists each branch with parents and siblings', async () => {
    const q1 = await ask('tina', { content: 'Q1' }, 'A1');
    const c = q1.conversationId;
    const q2 = await ask('tina', { conversationId: c, content: 'Q2' }, 'A2');
    expect(contents(await branch('tina', c))).toEqual(['Q1', 'A1', 'Q2', 'A2']);

    // Edit Q2: a sibling of Q2 under A1; the model sees the branch up to A1 only.
    const edit = await h.admit('tina', { conversationId: c, content: 'Q2 edited', branch: { mode: 'edit', messageId: q2.userMessageId } });
    expect(await historyOf(c, edit.runId)).toEqual(['Q1', 'A1']);
    await complete('tina', edit, 'A2 edited');
    const edited = await branch('tina', c);
    expect(contents(edited)).toEqual(['Q1', 'A1', 'Q2 edited', 'A2 edited']);
    expect(edited[2]).toMatchObject({ id: edit.userMessageId, parentId: q1.messageId, siblingIds: [q2.userMessageId, edit.userMessageId] });
    expect(edited[3]).toMatchObject({ id: edit.messageId, parentId: edit.userMessageId, siblingIds: [edit.messageId] });
    expect(edited[0]).toMatchObject({ parentId: null, siblingIds: [q1.userMessageId] });
    expect(await leafOf(c)).toBe(edit.messageId);
    // The first branch is still there, by its leaf.
    expect(contents(await branch('tina', c, { leaf: q2.messageId }))).toEqual(['Q1', 'A1', 'Q2', 'A2']);

    // Regenerate the edited question: a new answer beside the first, with the same question again.
    const again = await h.admit('tina', {
      conversationId: c,
      content: undefined,
      branch: { mode: 'regenerate', messageId: edit.userMessageId },
    });
    expect(again).toMatchObject({ userMessageId: edit.userMessageId, content: 'Q2 edited' });
    expect(await historyOf(c, again.runId)).toEqual(['Q1', 'A1']);
    await complete('tina', again, 'A2 regenerated');
    const regenerated = await branch('tina', c);
    expect(contents(regenerated)).toEqual(['Q1', 'A1', 'Q2 edited', 'A2 regenerated']);
    expect(regenerated[3].siblingIds).toEqual([edit.messageId, again.messageId]);
    const [{ n }] = await h.rows<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE id = $1`, [edit.userMessageId]);
    expect(n).toBe(1);

    // Edit the first message: a new root.
    const root = await ask(
      'tina',
      { conversationId: c, content: 'Q1 edited', branch: { mode: 'edit', messageId: q1.userMessageId } },
      'A1 edited',
    );
    const fromRoot = await branch('tina', c);
    expect(contents(fromRoot)).toEqual(['Q1 edited', 'A1 edited']);
    expect(fromRoot[0]).toMatchObject({ parentId: null, siblingIds: [q1.userMessageId, root.userMessageId] });

    // A continuation follows the active branch: its parent is fixed when the run starts.
    const next = await h.admit('tina', { conversationId: c, content: 'Q3' });
    expect(await historyOf(c, next.runId)).toEqual(['Q1 edited', 'A1 edited']);
    await complete('tina', next, 'A3');
    expect(contents(await branch('tina', c))).toEqual(['Q1 edited', 'A1 edited', 'Q3', 'A3']);

    // Regenerate without a message: the active branch's last question.
    const latest = await h.admit('tina', { conversationId: c, content: undefined, branch: { mode: 'regenerate' } });
    expect(latest).toMatchObject({ userMessageId: next.userMessageId, content: 'Q3' });
    // By its answer's id, when the caller says so (the AI SDK's messageId); not otherwise.
    const byAnswer = await h.admit('tina', {
      conversationId: c,
      content: undefined,
      branch: { mode: 'regenerate', messageId: next.messageId, byAnswer: true },
    });
    expect(byAnswer.userMessageId).toBe(next.userMessageId);
  });

  it('refuses parents that are not the user’s conversation’s user messages, and stores nothing then', async () => {
    const mine = await ask('uma', { content: 'mine' }, 'my answer');
    const other = await ask('uma', { content: 'other conversation' }, 'other answer');
    const foreign = await ask('victor', { content: 'victor’s' }, 'victor’s answer');
    const c = mine.conversationId;
    const before = await h.rows(`SELECT count(*)::int AS n FROM runs`);
    for (const messageId of [other.userMessageId, foreign.userMessageId, randomUUID()]) {
      for (const branchOf of [
        { mode: 'edit' as const, messageId },
        { mode: 'regenerate' as const, messageId },
      ]) {
        expect(await errorOf(h.admit('uma', { conversationId: c, content: 'x', branch: branchOf }))).toEqual({
          code: ErrorCode.NOT_FOUND,
          message: 'Message not found',
        });
      }
    }
    expect(
      await errorOf(h.admit('uma', { conversationId: c, content: undefined, branch: { mode: 'regenerate', messageId: mine.messageId } })),
    ).toMatchObject({
      code: ErrorCode.INVALID_INPUT,
    });
    expect(
      await errorOf(h.admit('uma', { conversationId: c, content: 'x', branch: { mode: 'edit', messageId: mine.messageId } })),
    ).toMatchObject({
      code: ErrorCode.INVALID_INPUT,
    });
    // Another user's conversation stays NOT_FOUND whatever the message.
    expect(
      await errorOf(
        h.admit('uma', {
          conversationId: foreign.conversationId,
          content: 'x',
          branch: { mode: 'edit', messageId: foreign.userMessageId },
        }),
      ),
    ).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Conversation not found' });
    // A new conversation has no message to edit: nothing is created.
    const fresh = randomUUID();
    expect(
      (await errorOf(h.admit('uma', { newConversationId: fresh, content: 'x', branch: { mode: 'edit', messageId: mine.userMessageId } })))
        .code,
    ).toBe(ErrorCode.NOT_FOUND);
    expect(await h.rows(`SELECT 1 FROM conversations WHERE id = $1`, [fresh])).toEqual([]);
    expect(await h.rows(`SELECT count(*)::int AS n FROM runs`)).toEqual(before);
    // Content is required but for a regenerate (the contract, on both sides).
    expect((await errorOf(h.admit('uma', { conversationId: c, content: undefined }))).code).toBe(ErrorCode.INVALID_INPUT);

    // The table itself refuses a parent or a leaf from another conversation.
    const crossParent = await errorOf(
      h.db.query(`INSERT INTO messages (id, conversation_id, parent_id, role, content) VALUES ($1, $2, $3, 'user', 'x')`, [
        randomUUID(),
        c,
        other.messageId,
      ]),
    );
    expect(crossParent.code).toBe('23503');
    expect((await errorOf(h.db.query(`UPDATE conversations SET active_leaf_id = $1 WHERE id = $2`, [other.messageId, c]))).code).toBe(
      '23503',
    );
  });

  it('lists and switches branches; 404 for a leaf, a before or a conversation not the user’s', async () => {
    const q = await ask('wendy', { content: 'Q' }, 'A');
    const c = q.conversationId;
    const e = await ask(
      'wendy',
      { conversationId: c, content: 'Q edited', branch: { mode: 'edit', messageId: q.userMessageId } },
      'A edited',
    );
    const deeper = await ask('wendy', { conversationId: c, content: 'Q deeper' }, 'A deeper');
    expect(await leafOf(c)).toBe(deeper.messageId);

    // To the first question: the branch goes down to the newest message under it.
    expect(await h.call(PERSISTENCE_RPC.switchBranch, { userId: 'wendy', conversationId: c, leafMessageId: q.userMessageId })).toEqual({
      leafMessageId: q.messageId,
    });
    expect(contents(await branch('wendy', c))).toEqual(['Q', 'A']);
    expect(await h.call(PERSISTENCE_RPC.switchBranch, { userId: 'wendy', conversationId: c, leafMessageId: e.userMessageId })).toEqual({
      leafMessageId: deeper.messageId,
    });

    // A run whose branch was fixed before the user switched does not switch it back.
    const regen = await h.admit('wendy', {
      conversationId: c,
      content: undefined,
      branch: { mode: 'regenerate', messageId: deeper.userMessageId },
    });
    await h.call(PERSISTENCE_RPC.switchBranch, { userId: 'wendy', conversationId: c, leafMessageId: q.messageId });
    await complete('wendy', regen, 'A deeper again');
    expect(await leafOf(c)).toBe(q.messageId);
    expect(contents(await branch('wendy', c, { leaf: regen.messageId }))).toEqual(['Q edited', 'A edited', 'Q deeper', 'A deeper again']);

    const other = await ask('wendy', { content: 'other' }, 'other answer');
    const foreign = await ask('xavier', { content: 'x' }, 'y');
    for (const id of [other.messageId, foreign.messageId, randomUUID()]) {
      for (const at of [{ leaf: id }, { before: id }]) {
        expect(await errorOf(branch('wendy', c, at))).toEqual({ code: ErrorCode.NOT_FOUND, message: 'Message not found' });
      }
      expect(await errorOf(h.call(PERSISTENCE_RPC.switchBranch, { userId: 'wendy', conversationId: c, leafMessageId: id }))).toEqual({
        code: ErrorCode.NOT_FOUND,
        message: 'Message not found',
      });
    }
    expect(
      await errorOf(h.call(PERSISTENCE_RPC.switchBranch, { userId: 'xavier', conversationId: c, leafMessageId: q.messageId })),
    ).toEqual({
      code: ErrorCode.NOT_FOUND,
      message: 'Conversation not found',
    });
    expect(await leafOf(c)).toBe(q.messageId);
  });

  it('stores two edits of one message admitted at once as siblings; the one stored last is the active branch', async () => {
    const q = await ask('zoe', { content: 'Q' }, 'A');
    const c = q.conversationId;
    const [one, two] = await Promise.all(
      ['first edit', 'second edit'].map((content) =>
        h.admit('zoe', { conversationId: c, content, branch: { mode: 'edit', messageId: q.userMessageId } }),
      ),
    );
    await complete('zoe', two, 'answer to the second');
    await complete('zoe', one, 'answer to the first');
    const active = await branch('zoe', c);
    expect(contents(active)).toEqual(['first edit', 'answer to the first']);
    expect(active[0].siblingIds).toHaveLength(3);
    expect(new Set(active[0].siblingIds)).toEqual(new Set([q.userMessageId, one.userMessageId, two.userMessageId]));
    expect(contents(await branch('zoe', c, { leaf: two.messageId }))).toEqual(['second edit', 'answer to the second']);
    // A run's messages are stored once, whatever happens to its events afterwards.
    await complete('zoe', one, 'answer to the first');
    const [{ n }] = await h.rows<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1`, [c]);
    expect(n).toBe(6);
  });

  it('pages a deep branch newest first, each page oldest first, following nextBefore', async () => {
    const first = await h.admit('yara', { content: 'start' });
    const c = first.conversationId;
    // 300 messages, one branch, written straight into the table; a side branch off message 150.
    const ids = Array.from({ length: 300 }, () => randomUUID());
    await h.rows(
      `INSERT INTO messages (id, conversation_id, role, content, created_at)
       SELECT id, $2, CASE WHEN n % 2 = 1 THEN 'user' ELSE 'assistant' END, 'm' || (n - 1), now() - interval '1 day' + n * interval '1 second'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
      [ids, c],
    );
    await h.linkAsOneBranch(c);
    const side = randomUUID();
    await h.rows(`INSERT INTO messages (id, conversation_id, parent_id, role, content) VALUES ($1, $2, $3, 'user', 'side')`, [
      side,
      c,
      ids[149],
    ]);
    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const page = await h.call(PERSISTENCE_RPC.listMessages, { userId: 'yara', conversationId: c, limit: 70, before });
      seen.unshift(...page.messages.map((m) => m.id));
      before = page.nextBefore ?? undefined;
      if (before) expect(before).toBe(page.messages[0].id);
      pages += 1;
    } while (before && pages < 10);
    expect(pages).toBe(5);
    expect(seen).toEqual(ids);
    expect(contents(await branch('yara', c, { leaf: side, limit: 3 }))).toEqual(['m148', 'm149', 'side']);
    const atSide = await branch('yara', c, { leaf: ids[150], limit: 1 });
    expect(atSide[0].siblingIds).toEqual([ids[150], side]);
  });

  it('migrates existing linear conversations into single branches, in batches, and again after an interruption', async () => {
    const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const dbName = `${h.dbName}_tree`;
    const url = withDatabase(base, dbName);
    await runMigrations(url);
    const ds = await createDataSource(url, { poolSize: 2 }).initialize();
    const runner = ds.createQueryRunner();
    const pg = new Client({ connectionString: url });
    await pg.connect();
    try {
      const migration = new MessageTree1795334000030();
      await migration.down(runner);
      // More conversations than one batch: three messages each, the last two of one tied in time (the id decides).
      const conversations = MESSAGE_TREE_BACKFILL_BATCH + 205;
      await pg.query(
        `INSERT INTO conversations (id, user_id, title) SELECT gen_random_uuid(), 'u' || n, 't' FROM generate_series(1, $1) n`,
        [conversations],
      );
      await pg.query(
        `INSERT INTO messages (id, conversation_id, role, content, created_at)
         SELECT gen_random_uuid(), c.id, CASE WHEN k = 2 THEN 'assistant' ELSE 'user' END, 'm' || k, timestamptz '2026-01-01' + k * interval '1 second'
           FROM conversations c, generate_series(1, 3) k`,
      );
      const empty = randomUUID();
      await pg.query(`INSERT INTO conversations (id, user_id, title) VALUES ($1, 'u0', 'empty')`, [empty]);
      const [tied] = (await pg.query(`SELECT id FROM conversations WHERE id <> $1 LIMIT 1`, [empty])).rows as Array<{ id: string }>;
      await pg.query(
        `UPDATE messages SET created_at = timestamptz '2026-01-01' + interval '2 seconds' WHERE conversation_id = $1 AND content = 'm3'`,
        [tied.id],
      );

      await migration.up(runner);
      const check = async () => {
        const { rows } = await pg.query(
          `WITH expected AS (
             SELECT id, conversation_id, lag(id) OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS parent,
                    row_number() OVER (PARTITION BY conversation_id ORDER BY created_at DESC, id DESC) AS from_end
               FROM messages)
           SELECT (SELECT count(*)::int FROM messages m JOIN expected e USING (id) WHERE m.parent_id IS DISTINCT FROM e.parent) AS wrong_parents,
                  (SELECT count(*)::int FROM messages WHERE parent_id IS NULL) AS roots,
                  (SELECT count(*)::int FROM conversations c JOIN expected e ON e.conversation_id = c.id AND e.from_end = 1
                    WHERE c.active_leaf_id IS DISTINCT FROM e.id) AS wrong_leaves,
                  (SELECT active_leaf_id FROM conversations WHERE id = $1) AS empty_leaf,
                  (SELECT count(*)::int FROM pg_constraint WHERE conname IN ('messages_parent_fk', 'conversations_active_leaf_fk', 'messages_parent_not_self') AND convalidated) AS constraints,
                  (SELECT count(*)::int FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                    WHERE x.relname IN ('messages_conversation_id_uidx', 'messages_conversation_parent_idx') AND i.indisvalid) AS indexes`,
          [empty],
        );
        return rows[0];
      };
      const expected = { wrong_parents: 0, roots: conversations, wrong_leaves: 0, empty_leaf: null, constraints: 3, indexes: 2 };
      expect(await check()).toEqual(expected);
      const tiedOrder = await pg.query(`SELECT content, parent_id IS NULL AS root FROM messages WHERE conversation_id = $1`, [tied.id]);
      expect(tiedOrder.rows.filter((r: { root: boolean }) => r.root)).toEqual([{ content: 'm1', root: true }]);

      // Interrupted half-way (parents and leaves of some conversations missing, an index gone): running it again finishes the job.
      await pg.query(
        `UPDATE conversations SET active_leaf_id = NULL WHERE id IN (SELECT id FROM conversations ORDER BY id DESC LIMIT 300)`,
      );
      await pg.query(
        `UPDATE messages SET parent_id = NULL WHERE conversation_id IN (SELECT id FROM conversations WHERE active_leaf_id IS NULL) AND parent_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.active_leaf_id = messages.id)
            AND NOT EXISTS (SELECT 1 FROM messages child WHERE child.parent_id = messages.id)`,
      );
      await pg.query(`DROP INDEX messages_conversation_parent_idx`);
      expect((await check()).wrong_leaves).toBeGreaterThan(0);
      await migration.up(runner);
      expect(await check()).toEqual(expected);
    } finally {
      await pg.end();
      await runner.release();
      await ds.destroy();
      const admin = new Client({ connectionString: withDatabase(base, 'postgres') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(dbName)} WITH (FORCE)`);
      await admin.end();
    }
  }, 120_000);
});
