import { HeraldError } from '@herald/contracts';
import { FEEDBACK_VOTES_SQL, KNOWLEDGE_SEARCH_SQL, MAX_FEEDBACK_VOTES, PgKnowledgeBase, type SqlQueryable } from './pg-knowledge-base';
import { anyWordQuery } from './any-word-query';

function fakeDb(rows: unknown[] = []) {
  const calls: Array<{ text: string; values: unknown[] }> = [];
  const db: SqlQueryable = {
    query: async (text, values) => {
      calls.push({ text, values });
      return { rows };
    },
  };
  return { db, calls };
}

describe('PgKnowledgeBase', () => {
  it('runs the ranked full-text query with the query and limit as parameters', async () => {
    const { db, calls } = fakeDb([{ id: 'a', title: 'T', content: 'C', score: '0.25' }]);
    const found = await new PgKnowledgeBase(db).search("what's NATS'; DROP TABLE kb_chunks; --", 5);
    expect(calls).toEqual([{ text: KNOWLEDGE_SEARCH_SQL, values: ["what's NATS'; DROP TABLE kb_chunks; --", 5] }]);
    expect(KNOWLEDGE_SEARCH_SQL).toBe(
      "SELECT id, title, content, ts_rank_cd(tsv, q) AS score FROM kb_chunks, websearch_to_tsquery('english', $1) q WHERE tsv @@ q ORDER BY score DESC, id LIMIT $2",
    );
    expect(found).toEqual([{ id: 'a', title: 'T', content: 'C', score: 0.25 }]);
  });

  it('clamps the limit and skips blank queries', async () => {
    const { db, calls } = fakeDb();
    const kb = new PgKnowledgeBase(db);
    expect(await kb.search('   ', 5)).toEqual([]);
    await kb.search('nats', 10_000);
    await kb.search('nats', 0);
    expect(calls.map((c) => c.values[1])).toEqual([50, 1]);
  });

  it('with ratings, re-ranks four times as many candidates by the votes on them, and keeps `limit`', async () => {
    const calls: Array<{ text: string; values: unknown[] }> = [];
    const db: SqlQueryable = {
      query: async (text, values) => {
        calls.push({ text, values });
        if (text === KNOWLEDGE_SEARCH_SQL)
          return {
            rows: [
              { id: 'a', title: 'A', content: 'a', score: 1 },
              { id: 'b', title: 'B', content: 'b', score: 0.9 },
              { id: 'c', title: 'C', content: 'c', score: 0.2 },
            ],
          };
        return { rows: [{ passage_id: 'a', user_id: 'u1', rating: 'down', similarity: '1' }] };
      },
    };
    const found = await new PgKnowledgeBase(db, { feedback: { maxBoost: 0.5, priorVotes: 1 } }).search('quokka ledger', 2);
    expect(calls.map((c) => c.values)).toEqual([
      ['quokka ledger', 8],
      [['a', 'b', 'c'], 'quokka ledger', MAX_FEEDBACK_VOTES],
    ]);
    expect(calls[1].text).toBe(FEEDBACK_VOTES_SQL);
    expect(found).toEqual([
      { id: 'b', title: 'B', content: 'b', score: 0.9 },
      { id: 'a', title: 'A', content: 'a', score: 0.75, feedback: { baseScore: 1, factor: 0.75, up: 0, down: 1 } },
    ]);
  });

  it('with a max boost of 0, runs the plain search only', async () => {
    const { db, calls } = fakeDb([{ id: 'a', title: 'T', content: 'C', score: 1 }]);
    await new PgKnowledgeBase(db, { feedback: { maxBoost: 0, priorVotes: 1 } }).search('nats', 5);
    expect(calls).toEqual([{ text: KNOWLEDGE_SEARCH_SQL, values: ['nats', 5] }]);
  });

  it('turns a database failure into UNAVAILABLE', async () => {
    const db: SqlQueryable = { query: async () => Promise.reject(new Error('ECONNREFUSED')) };
    const err = await new PgKnowledgeBase(db).search('nats', 5).catch((e) => e);
    expect(HeraldError.is(err) && err.code).toBe('UNAVAILABLE');
  });
});

describe('anyWordQuery', () => {
  it('ORs the significant words, lower-cased, without query syntax', () => {
    expect(anyWordQuery('How do "durable" consumers -survive OR restarts?')).toEqual({
      query: 'durable or consumers or survive or restarts',
      words: ['durable', 'consumers', 'survive', 'restarts'],
    });
  });

  it('gives nothing to retry with fewer than two words', () => {
    expect(anyWordQuery('what is NATS?').query).toBe('');
    expect(anyWordQuery('--- ??? ---').query).toBe('');
  });
});
