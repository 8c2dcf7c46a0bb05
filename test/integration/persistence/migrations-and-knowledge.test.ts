import { randomUUID } from 'node:crypto';
import { ErrorCode, PERSISTENCE_RPC } from '@herald/contracts';
import { createDataSource, ingestDocuments, listKnowledgeFiles, MIGRATIONS, runMigrations } from '@herald/db';
import { errorCodeOf, PersistenceHarness } from '../../support/persistence-harness';
import { waitFor } from '../../support/polling';

/** The worker's knowledge search, exactly as it runs it. */
const WORKER_KB_QUERY = `SELECT id, title, content, ts_rank_cd(tsv, q) AS score FROM kb_chunks, websearch_to_tsquery('english', $1) q WHERE tsv @@ q ORDER BY score DESC, id LIMIT $2`;

describe('persistence: several instances, migrations and the knowledge base', () => {
  let h: PersistenceHarness;

  beforeAll(async () => {
    // Two instances start at once on a database that does not exist yet.
    h = await PersistenceHarness.start(2);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('creates the database and applies every migration exactly once', async () => {
    const applied = await h.rows<{ name: string }>(`SELECT name FROM migrations ORDER BY id`);
    expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await runMigrations(h.databaseUrl)).toEqual([]);
  });

  it('seeds the knowledge base so that the worker’s query ranks passages about JetStream', async () => {
    const rows = await h.rows<{ id: string; title: string; content: string; score: number }>(WORKER_KB_QUERY, ['JetStream', 5]);
    expect(rows.length).toBe(5);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1].score).toBeGreaterThanOrEqual(rows[i].score);
    expect(rows[0].score).toBeGreaterThan(0);
    expect(rows[0].id).toMatch(/^[a-z0-9-]+#\d+$/);
    expect(rows[0].title).toContain('›');
    expect(rows.some((r) => r.id.startsWith('nats-jetstream-design#'))).toBe(true);
    expect(rows.every((r) => /jetstream/i.test(`${r.title} ${r.content}`))).toBe(true);
    expect(await h.rows(WORKER_KB_QUERY, ['how do I resume after a disconnect', 3])).not.toHaveLength(0);
    expect(await h.rows(WORKER_KB_QUERY, ['xylophone zeppelin', 3])).toHaveLength(0);
  });

  it('re-ingests the documents idempotently', async () => {
    const count = async () =>
      (
        await h.rows<{ docs: number; chunks: number }>(
          `SELECT (SELECT count(*)::int FROM kb_documents) AS docs, (SELECT count(*)::int FROM kb_chunks) AS chunks`,
        )
      )[0];
    const before = await count();
    const files = listKnowledgeFiles();
    expect(before.docs).toBe(files.length);
    const dataSource = await createDataSource(h.databaseUrl, { poolSize: 1 }).initialize();
    try {
      const result = await ingestDocuments(dataSource, files);
      expect(result).toEqual({ documents: before.docs, chunks: before.chunks });
    } finally {
      await dataSource.destroy();
    }
    expect(await count()).toEqual(before);
  });

  it('shares the event writer and the rpc load between instances, writing each event once', async () => {
    const runs = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const reply = await h.admit(`user-${i}`);
        return { userId: `user-${i}`, conversationId: reply.conversationId, runId: reply.runId, messageId: reply.messageId };
      }),
    );
    await Promise.all(
      runs.map(async (run) => {
        await h.publish(run, 'orchestration_started', {}, 0.1);
        await h.publish(
          run,
          'message',
          { messageId: run.messageId, role: 'assistant', content: 'Answer', metadata: { intent: 'question', sources: [] } },
          0.9,
        );
        await h.publish(run, 'orchestration_completed', { durationMs: 3 }, 1);
      }),
    );
    for (const run of runs) {
      await waitFor(async () => {
        const s = await h.call(PERSISTENCE_RPC.getRun, { userId: run.userId, runId: run.runId });
        return s.status === 'completed';
      }, 'completion');
    }
    const [{ events, messages }] = await h.rows(
      `SELECT (SELECT count(*)::int FROM events WHERE run_id = ANY($1::uuid[])) AS events,
              (SELECT count(*)::int FROM messages WHERE run_id = ANY($1::uuid[])) AS messages`,
      [runs.map((r) => r.runId)],
    );
    expect({ events, messages }).toEqual({ events: 36, messages: 24 });
    expect(await errorCodeOf(h.call(PERSISTENCE_RPC.getRun, { userId: 'user-0', runId: randomUUID() }))).toBe(ErrorCode.NOT_FOUND);
  });
});
