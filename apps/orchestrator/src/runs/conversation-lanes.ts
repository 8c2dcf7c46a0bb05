import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subjects } from '@herald/contracts';
import { decodeJson, encodeJson, NATS, REDIS, type Redis, SUBJECTS } from '@herald/messaging';
import type { NatsConnection, Subscription } from 'nats';

/** How long an active run holds its conversation without a heartbeat (a crashed holder frees it). */
export const LANE_LEASE_MS = 30_000;
const POLL_MS = 500;

// KEYS[1] queue zset, KEYS[2] active key; ARGV[1] runId, ARGV[2] lease ms.
const TRY_START = `
local active = redis.call('GET', KEYS[2])
if active == ARGV[1] then return 1 end
if active then return 0 end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1`;
const IF_HOLDER = (op: string) => `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call(${op}) end return 0`;

/**
 * One lane per conversation, in Redis so every orchestrator instance shares it: at most one
 * active run per conversation, the others wait in admission order (the RUNS stream
 * sequence). This is how `onBusy: enqueue` and `interrupt` hold across instances.
 */
@Injectable()
export class ConversationLanes implements OnModuleInit, OnApplicationShutdown {
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscription?: Subscription;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
  ) {}

  onModuleInit() {
    this.subscription = this.nc.subscribe(this.subjects.conversationReleased, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const { conversationId } = decodeJson<{ conversationId: string }>(msg.data);
          this.waiters.get(conversationId)?.forEach((wake) => wake());
        } catch {
          /* ignore malformed notifications */
        }
      },
    });
  }

  /** After the runs in flight have finished (RunConsumer drains them in onModuleDestroy). */
  onApplicationShutdown() {
    this.subscription?.unsubscribe();
  }

  /** Joins the lane; `priority` runs (interrupts) go before everything already waiting. */
  async join(conversationId: string, runId: string, order: number, priority = false): Promise<void> {
    await this.redis.zadd(this.queueKey(conversationId), 'NX', priority ? -order : order, runId);
  }

  async tryStart(conversationId: string, runId: string): Promise<boolean> {
    const started = await this.redis.eval(
      TRY_START,
      2,
      this.queueKey(conversationId),
      this.activeKey(conversationId),
      runId,
      LANE_LEASE_MS,
    );
    return started === 1;
  }

  /** 1 for the next run to start, 2 for the one after it, … */
  async position(conversationId: string, runId: string): Promise<number> {
    const rank = await this.redis.zrank(this.queueKey(conversationId), runId);
    return (rank ?? 0) + 1;
  }

  activeRun(conversationId: string): Promise<string | null> {
    return this.redis.get(this.activeKey(conversationId));
  }

  /** Waits until this run holds the lane; rejects when the signal aborts. */
  async waitTurn(conversationId: string, runId: string, signal: AbortSignal): Promise<void> {
    while (!(await this.tryStart(conversationId, runId))) {
      signal.throwIfAborted();
      await this.nextRelease(conversationId, signal);
    }
  }

  async renew(conversationId: string, runId: string): Promise<void> {
    await this.redis.eval(IF_HOLDER(`'PEXPIRE', KEYS[1], ARGV[2]`), 1, this.activeKey(conversationId), runId, LANE_LEASE_MS);
  }

  /** Leaves the lane, whether the run was waiting or active, and wakes the next one. */
  async leave(conversationId: string, runId: string): Promise<void> {
    await this.redis.zrem(this.queueKey(conversationId), runId);
    const released = await this.redis.eval(IF_HOLDER(`'DEL', KEYS[1]`), 1, this.activeKey(conversationId), runId);
    if (released === 1) this.nc.publish(this.subjects.conversationReleased, encodeJson({ conversationId }));
  }

  private nextRelease(conversationId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(conversationId) ?? new Set();
      this.waiters.set(conversationId, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(conversationId);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  private queueKey(conversationId: string) {
    return `${this.subjects.redisPrefix}conv:${conversationId}:queue`;
  }

  private activeKey(conversationId: string) {
    return `${this.subjects.redisPrefix}conv:${conversationId}:active`;
  }
}
