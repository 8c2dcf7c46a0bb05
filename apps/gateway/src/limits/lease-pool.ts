import { randomUUID } from 'node:crypto';
import type { Redis } from '@herald/messaging';
import type { Logger } from '@herald/observability';
import { withTimeout } from '@herald/messaging';

/**
 * Admission, in one round trip: drops the set's expired leases, then adds `member` with a
 * lease until now + leaseMs if fewer than `max` remain. The clock is Redis's own (TIME), so
 * gateways with skewed clocks agree on what has expired.
 * KEYS[1] the user's set; ARGV member, max, leaseMs. Returns { admitted 0|1, leases held }.
 */
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then
  return {0, held}
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, held + 1}
`;

/**
 * Renewal of one instance's leases in one set: every member gets until now + leaseMs (a
 * member the set lost, e.g. while Redis was away, is written again).
 * KEYS[1] the set; ARGV leaseMs, members… Returns how many were renewed.
 */
const RENEW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], now + lease, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], lease)
return #ARGV - 1
`;

interface LeaseCommands {
  heraldLeaseAcquire(key: string, member: string, max: number, leaseMs: number): Promise<[number, number]>;
}
interface LeasePipeline {
  heraldLeaseRenew(key: string, leaseMs: number, ...members: string[]): unknown;
}

/** One lease held by this instance: a member of its user's set. */
export interface Lease {
  readonly id: string;
  readonly userId: string;
  readonly key: string;
}

export interface LeasePoolOptions {
  /** What is counted, for logs: `connections`, `replays`. */
  name: string;
  /** The user's sorted set (subjects().keys). */
  keyOf: (userId: string) => string;
  /** Leases one user may hold at once, across every instance. */
  max: number;
  /** How long a lease lives without renewal: how long a crashed instance's leases outlive it. */
  leaseMs: number;
  /** How often this instance renews its leases (a fraction of leaseMs). */
  renewEveryMs: number;
  /** Prefix of this instance's lease ids (its INSTANCE_ID), for whoever reads a set. */
  owner: string;
  /** How long one Redis command may take before the pool decides without it. */
  timeoutMs: number;
}

/**
 * Per-user leases counted across gateway instances: one Redis sorted set per user whose
 * members are lease ids scored by their expiry. An instance renews its own leases every
 * `renewEveryMs` (one pipelined round trip for all of them) and removes a lease when it is
 * released; a crashed instance's leases expire within `leaseMs` and are pruned by the next
 * admission (the same script), so a dead gateway never holds a user's slots for good.
 *
 * When Redis cannot answer, the pool decides on what this instance alone holds (at most
 * `max` per user here) and writes those leases at the next renewal: a Redis outage must not
 * lock every user out.
 */
export class LeasePool {
  private readonly held = new Map<string, Lease>();
  private timer: NodeJS.Timeout | undefined;
  private lastFailureLog = 0;

  constructor(
    private readonly redis: Redis,
    private readonly opts: LeasePoolOptions,
    private readonly logger: Logger,
  ) {
    const commands = redis as unknown as Partial<LeaseCommands> & Redis;
    if (typeof commands.heraldLeaseAcquire !== 'function') {
      redis.defineCommand('heraldLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
      redis.defineCommand('heraldLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    }
  }

  get max(): number {
    return this.opts.max;
  }

  /** Leases this instance holds (all users). */
  get size(): number {
    return this.held.size;
  }

  /** Takes a lease for the user, or null when `max` are held across instances. One Redis round trip. */
  async acquire(userId: string): Promise<Lease | null> {
    const lease: Lease = { id: `${this.opts.owner}:${randomUUID()}`, userId, key: this.opts.keyOf(userId) };
    try {
      const [admitted] = await withTimeout(
        (this.redis as unknown as LeaseCommands).heraldLeaseAcquire(lease.key, lease.id, this.opts.max, this.opts.leaseMs),
        this.opts.timeoutMs,
        `${this.opts.name} lease`,
      );
      if (admitted !== 1) return null;
    } catch (err) {
      // Redis is away: this instance's own count decides. The lease (the same id, in case the
      // script ran after all) is written by the next renewal.
      this.logFailure(err, 'counting on this instance alone');
      if (this.heldLocally(userId) >= this.opts.max) return null;
    }
    this.held.set(lease.id, lease);
    return lease;
  }

  /** Gives a lease back (idempotent). The Redis removal is best effort: a lost one expires. */
  release(lease: Lease): void {
    if (!this.held.delete(lease.id)) return;
    withTimeout(this.redis.zrem(lease.key, lease.id), this.opts.timeoutMs, `${this.opts.name} lease release`).catch((err: unknown) =>
      this.logFailure(err, 'a released lease expires on its own'),
    );
  }

  /** Whether this instance still holds the lease. */
  holds(lease: Lease): boolean {
    return this.held.has(lease.id);
  }

  heldLocally(userId: string): number {
    let count = 0;
    for (const lease of this.held.values()) if (lease.userId === userId) count++;
    return count;
  }

  /** Starts renewing this instance's leases every renewEveryMs. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renew(), this.opts.renewEveryMs);
    this.timer.unref();
  }

  /** Renews every lease this instance holds: one pipelined round trip, one script per user. */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const byKey = new Map<string, string[]>();
    for (const lease of this.held.values()) {
      const members = byKey.get(lease.key);
      if (members) members.push(lease.id);
      else byKey.set(lease.key, [lease.id]);
    }
    const pipeline = this.redis.pipeline();
    for (const [key, members] of byKey) (pipeline as unknown as LeasePipeline).heraldLeaseRenew(key, this.opts.leaseMs, ...members);
    try {
      await withTimeout(pipeline.exec(), this.opts.timeoutMs, `${this.opts.name} lease renewal`);
    } catch (err) {
      this.logFailure(err, 'leases are renewed at the next beat');
    }
  }

  /** Stops renewing and gives every lease back (shutting down). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.held.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const lease of this.held.values()) pipeline.zrem(lease.key, lease.id);
    this.held.clear();
    await withTimeout(pipeline.exec(), this.opts.timeoutMs, `${this.opts.name} lease release`).catch((err: unknown) =>
      this.logFailure(err, 'the leases expire on their own'),
    );
  }

  /** At most one warning every 10 s: a Redis outage must not flood the log. */
  private logFailure(err: unknown, consequence: string): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = now;
    this.logger.warn({ err: String(err), limit: this.opts.name }, `Redis did not answer for per-user ${this.opts.name}: ${consequence}`);
  }
}
