/** The bucket of items due when they were added. */
const DUE_NOW = -1;

export interface DeadlinesOptions {
  /** How often due items are looked for (default 1 s): an item expires at most this late. */
  tickMs?: number;
  now?: () => number;
}

/**
 * Expires items (sockets, SSE streams) at their epoch deadline, at most one tick late and
 * never early, with one timer for all of them: items wait in one-tick buckets. A timer and
 * its closures per connection cost more memory than the item's two map entries here.
 */
export class Deadlines<T> {
  private readonly tickMs: number;
  private readonly now: () => number;
  /** Bucket number (deadline / tick, rounded up) → its items. */
  private readonly buckets = new Map<number, Set<T>>();
  private readonly bucketOf = new Map<T, number>();
  /** Items whose deadline had passed when added. */
  private readonly dueNow = new Set<T>();
  /** Every bucket below this one has been expired. */
  private nextBucket: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly onExpire: (item: T) => void,
    opts: DeadlinesOptions = {},
  ) {
    this.tickMs = opts.tickMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.nextBucket = 0;
  }

  get size(): number {
    return this.bucketOf.size;
  }

  /** Expires `item` once `atMs` has passed (in a microtask if it already has). Replaces an earlier deadline of the item. */
  add(item: T, atMs: number): void {
    this.delete(item);
    if (atMs <= this.now()) {
      // Due already: expired right after the caller's turn (never inside it), unless deleted first.
      this.bucketOf.set(item, DUE_NOW);
      this.dueNow.add(item);
      if (this.dueNow.size === 1) queueMicrotask(() => this.expireDueNow());
      return;
    }
    const bucket = Math.ceil(atMs / this.tickMs);
    let items = this.buckets.get(bucket);
    if (!items) this.buckets.set(bucket, (items = new Set()));
    items.add(item);
    this.bucketOf.set(item, bucket);
    if (!this.timer) {
      // Nothing was waiting: no bucket below the next one can hold anything.
      this.nextBucket = Math.floor(this.now() / this.tickMs) + 1;
      this.arm();
    }
  }

  delete(item: T): void {
    const bucket = this.bucketOf.get(item);
    if (bucket === undefined) return;
    this.bucketOf.delete(item);
    if (bucket === DUE_NOW) {
      this.dueNow.delete(item);
      return;
    }
    const items = this.buckets.get(bucket)!;
    items.delete(item);
    if (items.size === 0) this.buckets.delete(bucket);
    if (this.bucketOf.size === 0) this.stop();
  }

  /** Forgets every item without expiring it. */
  clear(): void {
    this.dueNow.clear();
    this.buckets.clear();
    this.bucketOf.clear();
    this.stop();
  }

  private expireDueNow(): void {
    const due = [...this.dueNow];
    this.dueNow.clear();
    for (const item of due) {
      this.bucketOf.delete(item);
      this.onExpire(item);
    }
  }

  private expireDue(): void {
    this.timer = undefined;
    // Bucket b holds deadlines in ((b - 1) * tick, b * tick]: due once now >= b * tick.
    const due = Math.floor(this.now() / this.tickMs);
    for (; this.nextBucket <= due; this.nextBucket++) {
      const items = this.buckets.get(this.nextBucket);
      if (!items) continue;
      this.buckets.delete(this.nextBucket);
      for (const item of items) {
        this.bucketOf.delete(item);
        this.onExpire(item);
      }
    }
    if (this.bucketOf.size === 0) this.stop();
    else this.arm();
  }

  /** The next look is at the next bucket's end, so an item expires at most one tick late. */
  private arm(): void {
    const wait = Math.max(0, this.nextBucket * this.tickMs - this.now());
    this.timer = setTimeout(() => this.expireDue(), wait).unref();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
