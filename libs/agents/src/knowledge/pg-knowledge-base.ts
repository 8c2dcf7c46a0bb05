import { ErrorCode, HeraldError } from '@herald/contracts';
import { z } from 'zod';
import type { Passage } from '@herald/contracts';
import type { KnowledgeBase } from './knowledge-base';

/** The part of a `pg` Pool (or Client) this needs. */
export interface SqlQueryable {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Ranked full-text search over `kb_chunks` (its `tsv` column), best first, ties by id. */
export const KNOWLEDGE_SEARCH_SQL =
  "SELECT id, title, content, ts_rank_cd(tsv, q) AS score FROM kb_chunks, websearch_to_tsquery('english', $1) q WHERE tsv @@ q ORDER BY score DESC, id LIMIT $2";

export const MAX_SEARCH_LIMIT = 50;
const MAX_QUERY_CHARS = 1000;

const rowSchema = z.object({
  id: z.string(),
  title: z
    .string()
    .nullable()
    .transform((t) => t ?? ''),
  content: z
    .string()
    .nullable()
    .transform((c) => c ?? ''),
  score: z.coerce.number(),
});

/** The knowledge base in Postgres, through the worker's read-only pool. */
export class PgKnowledgeBase implements KnowledgeBase {
  constructor(private readonly db: SqlQueryable) {}

  async search(query: string, limit: number): Promise<Passage[]> {
    const q = query.slice(0, MAX_QUERY_CHARS).trim();
    if (!q) return [];
    const n = Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.floor(limit)));
    let rows: unknown[];
    try {
      ({ rows } = await this.db.query(KNOWLEDGE_SEARCH_SQL, [q, n]));
    } catch (err) {
      const unavailable = new HeraldError(ErrorCode.UNAVAILABLE, 'The knowledge base is unavailable right now.');
      unavailable.cause = err;
      throw unavailable;
    }
    return rows.map((row) => rowSchema.parse(row));
  }
}
