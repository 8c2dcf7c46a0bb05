/**
 * The features of one text: calls `emit(id, weight)` for each. Ids are small non-negative
 * integers (e.g. hashes of the feature's text); an id emitted again for the same text is
 * ignored (a feature counts once per text, at its first weight). A callback rather than a
 * collection, so that training at module load allocates next to nothing per text.
 */
export type FeatureSource = (emit: (id: number, weight: number) => void) => void;

export interface NaiveBayesOptions {
  /** Additive (Lidstone) smoothing of the feature counts. */
  alpha: number;
}

/**
 * A multinomial Naive Bayes classifier over weighted features. Training is one pass over
 * the examples, in their order, with no randomness: the same examples always give the same
 * model, and the same text always gets the same scores.
 */
export class NaiveBayes<L extends string> {
  private constructor(
    readonly labels: readonly L[],
    private readonly logPrior: Float64Array,
    /** Row of each feature seen in training. */
    private readonly featureIndex: ReadonlyMap<number, number>,
    /** log P(feature | label): one row per feature, one column per label. */
    private readonly logLikelihood: Float64Array,
  ) {}

  static train<L extends string>(
    labels: readonly L[],
    examples: ReadonlyArray<{ label: L; features: FeatureSource }>,
    { alpha }: NaiveBayesOptions,
  ): NaiveBayes<L> {
    const width = labels.length;
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const featureIndex = new Map<number, number>();
    let capacity = 1024; // rows; grows by doubling
    let counts = new Float64Array(capacity * width); // one row of `width` per feature, in order of first appearance
    let seenIn = new Int32Array(capacity); // per row: 1 + the last example it was counted for
    const docs = new Float64Array(width);
    const totals = new Float64Array(width);
    let li = 0;
    let doc = 0;
    const count = (feature: number, weight: number) => {
      let row = featureIndex.get(feature);
      if (row === undefined) {
        row = featureIndex.size;
        featureIndex.set(feature, row);
        if (row === capacity) {
          capacity *= 2;
          const grown = new Float64Array(capacity * width);
          grown.set(counts);
          counts = grown;
          const seen = new Int32Array(capacity);
          seen.set(seenIn);
          seenIn = seen;
        }
      } else if (seenIn[row] === doc + 1) return;
      seenIn[row] = doc + 1;
      counts[row * width + li] += weight;
      totals[li] += weight;
    };
    for (; doc < examples.length; doc++) {
      const { label, features } = examples[doc];
      const index = labelIndex.get(label);
      if (index === undefined) throw new Error(`Unknown label "${label}"`);
      li = index;
      docs[li]++;
      features(count);
    }
    const logPrior = docs.map((n) => Math.log((n + 1) / (examples.length + width)));
    const denominators = totals.map((t) => Math.log(t + alpha * featureIndex.size));
    const table = counts.slice(0, featureIndex.size * width);
    for (let i = 0; i < table.length; i++) table[i] = Math.log(table[i] + alpha) - denominators[i % width];
    return new NaiveBayes(labels, logPrior, featureIndex, table);
  }

  /** Features the model knows (a feature never seen in training says nothing and is skipped). */
  get vocabularySize(): number {
    return this.featureIndex.size;
  }

  /** log P(label) + Σ weight · log P(feature | label), per label, in the order of `labels`. */
  logScores(features: FeatureSource): Float64Array {
    const width = this.labels.length;
    const scores = Float64Array.from(this.logPrior);
    const seen = new Set<number>();
    features((feature, weight) => {
      const row = this.featureIndex.get(feature);
      if (row === undefined || seen.has(feature)) return;
      seen.add(feature);
      for (let li = 0; li < width; li++) scores[li] += weight * this.logLikelihood[row * width + li];
    });
    return scores;
  }

  /** How much a feature favours label `a` over label `b` (log-likelihood ratio; 0 when unknown). */
  evidence(feature: number, a: L, b: L): number {
    const row = this.featureIndex.get(feature);
    if (row === undefined) return 0;
    const width = this.labels.length;
    return this.logLikelihood[row * width + this.labels.indexOf(a)] - this.logLikelihood[row * width + this.labels.indexOf(b)];
  }
}

/** Softmax of log scores divided by a temperature: probabilities that add up to 1. */
export function softmax(scores: Float64Array, temperature = 1): Float64Array {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  const exp = scores.map((s) => Math.exp((s - max) / temperature));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}
