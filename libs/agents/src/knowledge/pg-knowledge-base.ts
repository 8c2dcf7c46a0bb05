import { ErrorCode, HeraldError } from '@herald/contracts';
import { z } from 'zod';
import { type FeedbackRankingOptions, type FeedbackVote, type RankedPassage, rerankWithFeedback } from './feedback-ranking';
import type { KnowledgeBase } from './knowledge-base';

/** The part of a `pg` Pool (or Client) this needs. */
export interface SqlQueryable {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Ranked full-text search over `kb_chunks` (its `tsv` column), best first, ties by id. */
export const KNOWLEDGE_SEARCH_SQL =
  "SELECT id, title, content, ts_rank_cd(tsv, q) AS score FROM kb_chunks, websearch_to_tsquery('english', $1) q WHERE tsv @@ q ORDER BY score DESC, id LIMIT $2";

/**
 * The ratings (table `message_feedback`) of answers that cited any of the candidates `$1`,
 * with how like the query `$2` each rated question is: the Jaccard index of their English
 * lexemes (those of the rated question were stored with the rating). Questions sharing no
 * lexeme are left out; the newest ratings first, at most MAX_FEEDBACK_VOTES.
 */
export const FEEDBACK_VOTES_SQL = `
  WITH q AS (SELECT tsvector_to_array(to_tsvector('english', $2)) AS lex)
  SELECT s.id AS passage_id, f.user_id, f.rating,
         shared.n::float8 / (cardinality(f.question_lexemes) + cardinality(q.lex) - shared.n) AS similarity
    FROM q
    JOIN message_feedback f ON f.source_ids && $1::text[] AND f.question_lexemes && q.lex
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM unnest(f.question_lexemes) l WHERE l = ANY (q.lex)) shared
    CROSS JOIN LATERAL unnest(f.source_ids) s(id)
   WHERE s.id = ANY ($1::text[])
   ORDER BY f.updated_at DESC
   LIMIT $3`;

export const MAX_SEARCH_LIMIT = 50;
const MAX_QUERY_CHARS = 1000;
/** With ratings in play, the full-text search's best this-many-times-`limit` passages are re-ranked. */
const CANDIDATES_PER_RESULT = 4;
/** The most ratings one search weighs (the newest). */
export const MAX_FEEDBACK_VOTES = 5000;

const voteSchema = z.object({
  passage_id: z.string(),
  user_id: z.string(),
  rating: z.enum(['up', 'down']),
  similarity: z.coerce.number(),
});

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

/**
 * The knowledge base in Postgres, through the worker's read-only pool. With `feedback` (and a
 * `maxBoost` above 0), users' ratings re-rank the full-text search's best candidates
 * (feedback-ranking.ts).
 */
export class PgKnowledgeBase implements KnowledgeBase {
  constructor(
    private readonly db: SqlQueryable,
    private readonly opts: { feedback?: FeedbackRankingOptions } = {},
  ) {}

  async search(query: string, limit: number): Promise<RankedPassage[]> {
    const q = query.slice(0, MAX_QUERY_CHARS).trim();
    if (!q) return [];
    const n = Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.floor(limit)));
    const feedback = this.opts.feedback;
    if (!feedback || feedback.maxBoost <= 0) return (await this.query(KNOWLEDGE_SEARCH_SQL, [q, n])).map((row) => rowSchema.parse(row));
    const candidates = (await this.query(KNOWLEDGE_SEARCH_SQL, [q, Math.min(MAX_SEARCH_LIMIT, n * CANDIDATES_PER_RESULT)])).map((row) =>
      rowSchema.parse(row),
    );
    if (candidates.length === 0) return [];
    const votes = (await this.query(FEEDBACK_VOTES_SQL, [candidates.map((p) => p.id), q, MAX_FEEDBACK_VOTES])).map((row): FeedbackVote => {
      const v = voteSchema.parse(row);
      return { passageId: v.passage_id, userId: v.user_id, rating: v.rating, similarity: v.similarity };
    });
    return rerankWithFeedback(candidates, votes, feedback, n);
  }

  private async query(text: string, values: unknown[]): Promise<unknown[]> {
    try {
      return (await this.db.query(text, values)).rows;
    } catch (err) {
      const unavailable = new HeraldError(ErrorCode.UNAVAILABLE, 'The knowledge base is unavailable right now.');
      unavailable.cause = err;
      throw unavailable;
    }
  }
}
