export interface BatcherOptions {
  /** Largest batch. */
  maxSize: number;
  /** A batch closes when nothing more arrives for this long... */
  lingerMs: number;
  /** ...or when this long has passed since its first item. */
  maxWaitMs: number;
}

/**
 * Cuts a stream into batches: waits for one item, then takes whatever else arrives while
 * items keep coming (up to `maxSize`, within `maxWaitMs`). Under load, batches fill up;
 * when traffic is light, an item waits only `lingerMs`.
 */
export class MessageBatcher<T> {
  private pending?: Promise<IteratorResult<T>>;

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly opts: BatcherOptions,
  ) {}

  /** The next batch; empty once the source has ended. */
  async next(): Promise<T[]> {
    const first = await this.take();
    if (first.done) return [];
    const batch = [first.value];
    const deadline = Date.now() + this.opts.maxWaitMs;
    while (batch.length < this.opts.maxSize) {
      const wait = Math.min(this.opts.lingerMs, deadline - Date.now());
      if (wait <= 0) break;
      const result = await this.takeWithin(wait);
      if (!result || result.done) break;
      batch.push(result.value);
    }
    return batch;
  }

  /** An item already asked of the source but not handed out yet, e.g. to give it back on shutdown. */
  async leftover(): Promise<T | undefined> {
    const pending = this.pending;
    this.pending = undefined;
    const result = await pending;
    return result && !result.done ? result.value : undefined;
  }

  private take(): Promise<IteratorResult<T>> {
    const next = this.pending ?? this.source.next();
    this.pending = undefined;
    return next;
  }

  /**
   * The next item if it comes within `ms`; otherwise null, and the request stays pending.
   * A plain timer, cleared at once: this runs per event (an AbortController per item cost
   * a third of the writer's CPU).
   */
  private async takeWithin(ms: number): Promise<IteratorResult<T> | null> {
    const next = (this.pending ??= this.source.next());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(resolve, ms, null);
    });
    const result = await Promise.race([next, timeout]);
    clearTimeout(timer);
    if (result) this.pending = undefined;
    return result;
  }
}
