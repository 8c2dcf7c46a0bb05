import type { Passage } from '@herald/contracts';
import { feedbackFactors, feedbackTrace, type FeedbackVote, MIN_SIMILARITY, plainPassage, rerankWithFeedback } from './feedback-ranking';

const opts = { maxBoost: 0.5, priorVotes: 1 };
const passage = (id: string, score: number): Passage => ({ id, title: id, content: `about ${id}`, score });
const vote = (passageId: string, userId: string, rating: 'up' | 'down', similarity = 1): FeedbackVote => ({
  passageId,
  userId,
  rating,
  similarity,
});

describe('feedbackFactors', () => {
  it('moves a passage down for a down vote and up for an up vote, smoothed by the prior', () => {
    const f = feedbackFactors([vote('a', 'u1', 'down'), vote('b', 'u1', 'up')], opts);
    // s = ∓1 / (1 + 1): the factor moves by maxBoost / 2.
    expect(f.get('a')).toEqual({ factor: 0.75, up: 0, down: 1 });
    expect(f.get('b')).toEqual({ factor: 1.25, up: 1, down: 0 });
  });

  it('counts one user at most as one vote per passage, however many answers they rate', () => {
    const many = Array.from({ length: 500 }, () => vote('a', 'spammer', 'down'));
    expect(feedbackFactors(many, opts).get('a')).toEqual(feedbackFactors([vote('a', 'spammer', 'down')], opts).get('a'));
  });

  it('never moves a score beyond 1 ± maxBoost, whatever the votes', () => {
    const downs = Array.from({ length: 10_000 }, (_, i) => vote('a', `u${i}`, 'down'));
    const ups = Array.from({ length: 10_000 }, (_, i) => vote('b', `u${i}`, 'up'));
    const f = feedbackFactors([...downs, ...ups], opts);
    expect(f.get('a')!.factor).toBeGreaterThan(1 - opts.maxBoost);
    expect(f.get('b')!.factor).toBeLessThan(1 + opts.maxBoost);
    expect(f.get('a')!.factor).toBeCloseTo(1 - opts.maxBoost, 3);
  });

  it('weighs a vote by how like the query its question is, and ignores unlike questions', () => {
    const near = feedbackFactors([vote('a', 'u1', 'down', 1)], opts).get('a')!.factor;
    const half = feedbackFactors([vote('a', 'u1', 'down', 0.5)], opts).get('a')!.factor;
    expect(half).toBeGreaterThan(near);
    expect(half).toBeLessThan(1);
    expect(feedbackFactors([vote('a', 'u1', 'down', MIN_SIMILARITY / 2)], opts).has('a')).toBe(false);
    expect(feedbackFactors([vote('a', 'u1', 'down', Number.NaN)], opts).has('a')).toBe(false);
  });

  it('lets opposite votes cancel out', () => {
    expect(feedbackFactors([vote('a', 'u1', 'down'), vote('a', 'u2', 'up')], opts).get('a')!.factor).toBe(1);
  });
});

describe('rerankWithFeedback', () => {
  const candidates = [passage('a', 1), passage('b', 0.9), passage('c', 0.5)];

  it('changes the order when a rating outweighs the difference, and keeps the best `limit`', () => {
    const ranked = rerankWithFeedback(candidates, [vote('a', 'u1', 'down')], opts, 2);
    expect(ranked.map((p) => p.id)).toEqual(['b', 'a']);
    expect(ranked[1]).toMatchObject({ id: 'a', score: 0.75, feedback: { baseScore: 1, factor: 0.75, up: 0, down: 1 } });
    expect(ranked[0].feedback).toBeUndefined();
  });

  it('lifts a passage from outside the page into it with up votes', () => {
    const ranked = rerankWithFeedback(candidates, [vote('c', 'u1', 'up'), vote('c', 'u2', 'up'), vote('c', 'u3', 'up')], opts, 2);
    // 0.5 × (1 + 0.5 × 3/4) = 0.6875: still below b (0.9); one vote cannot lift it that far.
    expect(ranked.map((p) => p.id)).toEqual(['a', 'b']);
    const close = rerankWithFeedback([passage('a', 1), passage('b', 0.9), passage('c', 0.85)], [vote('c', 'u1', 'up')], opts, 2);
    expect(close.map((p) => p.id)).toEqual(['c', 'a']);
  });

  it('keeps the order and the passages as they were without votes', () => {
    expect(rerankWithFeedback(candidates, [], opts, 5)).toEqual(candidates);
  });

  it('shows the adjustment for traces, and strips it for citing', () => {
    const ranked = rerankWithFeedback(candidates, [vote('a', 'u1', 'down')], opts, 3);
    expect(feedbackTrace(ranked)).toEqual([{ id: 'a', before: 1, after: 0.75, factor: 0.75, up: 0, down: 1 }]);
    expect(ranked.map(plainPassage)).toEqual([passage('b', 0.9), passage('a', 0.75), passage('c', 0.5)]);
  });
});
