import type { Passage } from '@herald/contracts';

/** A passage is kept when it scores at least this share of the best passage's score. */
export const RELEVANCE_RATIO = 0.3;

export interface Grading {
  kept: Passage[];
  /** The score a passage needed. */
  bar: number;
}

/** Drops the passages that rank far below the best one (scores are relative, not absolute). */
export function gradePassages(passages: readonly Passage[], ratio = RELEVANCE_RATIO): Grading {
  const best = passages.reduce((max, p) => Math.max(max, p.score), 0);
  const bar = best * ratio;
  return { kept: passages.filter((p) => p.score > 0 && p.score >= bar), bar };
}
