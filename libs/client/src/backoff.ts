import type { ReconnectOptions } from './herald-client.types';

/**
 * Exponential backoff with jitter: attempt 0 waits about `initialDelayMs`, each next one
 * twice as long, capped at `maxDelayMs`; `jitter` of each delay is random.
 */
export class Backoff {
  private attempt = 0;
  private readonly initial: number;
  private readonly max: number;
  private readonly jitter: number;

  constructor(
    opts: ReconnectOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initial = opts.initialDelayMs ?? 250;
    this.max = opts.maxDelayMs ?? 10_000;
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
  }

  next(): number {
    const base = Math.min(this.max, this.initial * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base * (1 - this.jitter) + base * this.jitter * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
