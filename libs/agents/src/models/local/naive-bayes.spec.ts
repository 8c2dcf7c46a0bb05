import { type FeatureSource, NaiveBayes, softmax } from './naive-bayes';

const of =
  (...ids: number[]): FeatureSource =>
  (emit) => {
    for (const id of ids) emit(id, 1);
  };

describe('NaiveBayes', () => {
  const labels = ['fruit', 'tool'] as const;
  const examples = [
    { label: 'fruit' as const, features: of(1, 2) },
    { label: 'fruit' as const, features: of(1, 3) },
    { label: 'tool' as const, features: of(4, 5) },
  ];
  const model = NaiveBayes.train(labels, examples, { alpha: 1 });

  it('computes smoothed log probabilities: priors and likelihoods by hand', () => {
    // Priors (with one added per label): fruit (2+1)/(3+2), tool (1+1)/(3+2).
    // Features 1..5 (V = 5); fruit counted 4 features, tool 2. P(1|fruit) = (2+1)/(4+5), P(1|tool) = (0+1)/(2+5).
    const [fruit, tool] = model.logScores(of(1));
    expect(fruit).toBeCloseTo(Math.log(3 / 5) + Math.log(3 / 9), 12);
    expect(tool).toBeCloseTo(Math.log(2 / 5) + Math.log(1 / 7), 12);
    expect(model.vocabularySize).toBe(5);
  });

  it('picks the label whose features match, and skips features it never saw', () => {
    const argmax = (s: Float64Array) => labels[s[0] >= s[1] ? 0 : 1];
    expect(argmax(model.logScores(of(1, 3)))).toBe('fruit');
    expect(argmax(model.logScores(of(4)))).toBe('tool');
    expect([...model.logScores(of(99, 100))]).toEqual([...model.logScores(of())]);
  });

  it('counts a feature once per text, when training and when scoring', () => {
    const twice = NaiveBayes.train(labels, [{ label: 'fruit', features: of(1, 1, 2) }, ...examples.slice(1)], { alpha: 1 });
    expect([...twice.logScores(of(1, 2, 4))]).toEqual([...model.logScores(of(1, 2, 4))]);
    expect([...model.logScores(of(1, 1, 1))]).toEqual([...model.logScores(of(1))]);
  });

  it('weighs a feature by its weight', () => {
    const half: FeatureSource = (emit) => emit(1, 0.5);
    const [fruit] = model.logScores(half);
    expect(fruit).toBeCloseTo(Math.log(3 / 5) + 0.5 * Math.log(3 / 9), 12);
  });

  it('says how much a feature favours one label over another', () => {
    expect(model.evidence(1, 'fruit', 'tool')).toBeGreaterThan(0);
    expect(model.evidence(4, 'fruit', 'tool')).toBeLessThan(0);
    expect(model.evidence(99, 'fruit', 'tool')).toBe(0);
  });

  it('grows past its first capacity and refuses an unknown label', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      label: i % 2 ? ('tool' as const) : ('fruit' as const),
      features: of(i, i + 1),
    }));
    expect(NaiveBayes.train(labels, many, { alpha: 1 }).vocabularySize).toBe(3001);
    expect(() => NaiveBayes.train(labels, [{ label: 'stone' as never, features: of(1) }], { alpha: 1 })).toThrow('Unknown label "stone"');
  });
});

describe('softmax', () => {
  it('gives probabilities that add up to 1, flatter at a higher temperature', () => {
    const scores = Float64Array.from([-10, -12, -20]);
    const sharp = softmax(scores);
    const flat = softmax(scores, 4);
    expect(sharp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(flat.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(sharp[0]).toBeCloseTo(1 / (1 + Math.exp(-2) + Math.exp(-10)), 12);
    expect(flat[0]).toBeLessThan(sharp[0]);
    expect(flat[2]).toBeGreaterThan(sharp[2]);
  });

  it('stays finite for very negative log scores', () => {
    expect([...softmax(Float64Array.from([-5000, -5001]))].every(Number.isFinite)).toBe(true);
  });
});
