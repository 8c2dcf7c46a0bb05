import type { Passage } from '@herald/contracts';

/**
 * The learning loop (README "Feedback"): users' ratings of answers move the passages those
 * answers cited, for questions like the rated one, within a bound.
 *
 * - A rating counts for a search as much as the rated question resembles the search's query
 *   (`similarity`: the Jaccard index of their lexemes, 0..1); below MIN_SIMILARITY not at all.
 * - Each user counts at most as one vote per passage: their weights on a passage are scaled
 *   down to add up to at most 1, so rating many answers again and again buys nothing.
 * - The passage's net opinion is smoothed by `priorVotes` votes of nobody:
 *   `s = (up − down) / (up + down + priorVotes)`, in (−1, 1).
 * - Its score is multiplied by `1 + maxBoost × s`: never below `1 − maxBoost` nor above
 *   `1 + maxBoost` times what the full-text search gave, and one user moves it by at most
 *   `maxBoost / (1 + priorVotes)` of it.
 */
export interface FeedbackRankingOptions {
  /** The most a score may move, as a share of it (0..0.9; 0: ratings change nothing). */
  maxBoost: number;
  /** Votes of nobody that every passage starts with (the smoothing; > 0). */
  priorVotes: number;
}

/** Ratings of questions less like the query than this are ignored. */
export const MIN_SIMILARITY = 0.2;

/** One rating of an answer that cited a passage, and how like the query the rated question is. */
export interface FeedbackVote {
  passageId: string;
  userId: string;
  rating: 'up' | 'down';
  /** 0..1 */
  similarity: number;
}

/** What the ratings did to one passage's score (shown in `full` traces). */
export interface FeedbackAdjustment {
  /** The full-text score, before the ratings. */
  baseScore: number;
  /** What the score was multiplied by. */
  factor: number;
  /** Weighted votes for and against (each user at most 1 in all). */
  up: number;
  down: number;
}

/** A passage as the knowledge base ranks it: with the ratings' adjustment when there was one. */
export type RankedPassage = Passage & { feedback?: FeedbackAdjustment };

/** The factor each rated passage's score is multiplied by, with the weighted votes behind it. */
export function feedbackFactors(
  votes: readonly FeedbackVote[],
  opts: FeedbackRankingOptions,
): Map<string, Omit<FeedbackAdjustment, 'baseScore'>> {
  // passage → user → weighted up and down
  const byPassage = new Map<string, Map<string, { up: number; down: number }>>();
  for (const v of votes) {
    const similarity = Math.min(1, Math.max(0, v.similarity));
    if (!(similarity >= MIN_SIMILARITY)) continue;
    let users = byPassage.get(v.passageId);
    if (!users) byPassage.set(v.passageId, (users = new Map()));
    const own = users.get(v.userId) ?? { up: 0, down: 0 };
    own[v.rating] += similarity;
    users.set(v.userId, own);
  }
  const factors = new Map<string, Omit<FeedbackAdjustment, 'baseScore'>>();
  for (const [passageId, users] of byPassage) {
    let up = 0;
    let down = 0;
    for (const own of users.values()) {
      const scale = Math.max(1, own.up + own.down);
      up += own.up / scale;
      down += own.down / scale;
    }
    const net = (up - down) / (up + down + opts.priorVotes);
    factors.set(passageId, { factor: 1 + opts.maxBoost * net, up, down });
  }
  return factors;
}

/**
 * The candidates re-ranked by their adjusted scores (ties by id, as the search orders them),
 * the best `limit`; a passage the ratings moved carries `feedback`.
 */
export function rerankWithFeedback(
  candidates: readonly Passage[],
  votes: readonly FeedbackVote[],
  opts: FeedbackRankingOptions,
  limit: number,
): RankedPassage[] {
  const factors = feedbackFactors(votes, opts);
  return candidates
    .map((p): RankedPassage => {
      const f = factors.get(p.id);
      if (!f || f.factor === 1) return p;
      return { ...p, score: p.score * f.factor, feedback: { baseScore: p.score, ...f } };
    })
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
}

/** The passages' adjustments for a `full` trace: `{ id, before, after, factor, up, down }` of each passage the ratings moved. */
export function feedbackTrace(passages: readonly RankedPassage[]): Array<Record<string, number | string>> {
  return passages
    .filter((p) => p.feedback)
    .map(({ id, score, feedback: f }) => ({
      id,
      before: round(f!.baseScore),
      after: round(score),
      factor: round(f!.factor),
      up: round(f!.up),
      down: round(f!.down),
    }));
}

/** The passage without its adjustment (what agents hand on and cite). */
export function plainPassage({ id, title, content, score }: RankedPassage): Passage {
  return { id, title, content, score };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
