import { type Config } from '@herald/config';
import { type Subjects } from '@herald/contracts';
import { CONFIG, REDIS, type Redis, SUBJECTS } from '@herald/messaging';
import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { TIMEOUTS } from '../core/timeouts';
import { orUnavailable } from '../core/or-unavailable';

/**
 * Small JSON records of the protocol adapters in Redis, per user, shared by every gateway
 * (which Herald run an AG-UI runId or an AI SDK chat stands for, and where its events begin).
 * Kept as long as the run's events can be replayed (EVENT_RETENTION_HOURS). Redis being
 * unreachable is UNAVAILABLE: without them a stream could not be resumed.
 */
@Injectable()
export class RunRecords {
  private readonly ttlSeconds: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(CONFIG) config: Config,
  ) {
    this.ttlSeconds = config.EVENT_RETENTION_HOURS * 3600;
  }

  async get<T>(kind: string, userId: string, key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const value = await orUnavailable(() => this.redis.get(this.keyOf(kind, userId, key)), TIMEOUTS.redisMs, 'protocol record');
    if (value === null) return undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(value));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async set(kind: string, userId: string, key: string, value: unknown): Promise<void> {
    await orUnavailable(
      () => this.redis.set(this.keyOf(kind, userId, key), JSON.stringify(value), 'EX', this.ttlSeconds),
      TIMEOUTS.redisMs,
      'protocol record',
    );
  }

  /** Sets the record unless one exists; resolves with the one that is kept. */
  async setIfAbsent<T>(kind: string, userId: string, key: string, value: T, schema: z.ZodType<T>): Promise<T> {
    const k = this.keyOf(kind, userId, key);
    const set = await orUnavailable(
      () => this.redis.set(k, JSON.stringify(value), 'EX', this.ttlSeconds, 'NX'),
      TIMEOUTS.redisMs,
      'protocol record',
    );
    if (set === 'OK') return value;
    return (await this.get(kind, userId, key, schema)) ?? value;
  }

  async delete(kind: string, userId: string, key: string): Promise<void> {
    await orUnavailable(() => this.redis.del(this.keyOf(kind, userId, key)), TIMEOUTS.redisMs, 'protocol record');
  }

  private keyOf(kind: string, userId: string, key: string): string {
    return this.subjects.keys.protocolRecord(kind, userId, key);
  }
}
