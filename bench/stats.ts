/** Percentiles over a sample of latencies (ms). */
export function summarize(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN);
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] ?? NaN };
}

export function fmt(x: number) {
  return Number.isFinite(x) ? x.toFixed(1) : '–';
}
