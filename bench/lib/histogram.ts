/** Latency percentiles as the report shows them (ms). */
export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Resolution of the histogram: 0.1 ms. */
const SCALE = 10;

/**
 * A mergeable latency histogram (0.1 ms buckets, sparse): cheap to record at tens of
 * thousands of samples a second, and small enough to send between processes.
 */
export class Histogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;

  static from(entries: ReadonlyArray<[number, number]>): Histogram {
    const h = new Histogram();
    for (const [bucket, count] of entries) h.add(bucket, count);
    return h;
  }

  static merge(histograms: Iterable<Histogram>): Histogram {
    const h = new Histogram();
    for (const other of histograms) for (const [bucket, count] of other.buckets) h.add(bucket, count);
    return h;
  }

  record(ms: number): void {
    this.add(Math.max(0, Math.round(ms * SCALE)), 1);
  }

  get count(): number {
    return this.total;
  }

  entries(): Array<[number, number]> {
    return [...this.buckets];
  }

  summary(): LatencySummary {
    const sorted = [...this.buckets].sort((a, b) => a[0] - b[0]);
    const at = (q: number): number => {
      if (this.total === 0) return NaN;
      const rank = Math.max(1, Math.ceil(q * this.total));
      let seen = 0;
      for (const [bucket, count] of sorted) {
        seen += count;
        if (seen >= rank) return bucket / SCALE;
      }
      return sorted[sorted.length - 1][0] / SCALE;
    };
    return { n: this.total, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
  }

  private add(bucket: number, count: number): void {
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + count);
    this.total += count;
  }
}

/** The median of each field over repeated measurements (NaN fields are left out). */
export function medianSummary(summaries: readonly LatencySummary[]): LatencySummary {
  const pick = (key: keyof LatencySummary) => median(summaries.map((s) => s[key]));
  return { n: pick('n'), p50: pick('p50'), p95: pick('p95'), p99: pick('p99'), max: pick('max') };
}

export function median(values: readonly number[]): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}
