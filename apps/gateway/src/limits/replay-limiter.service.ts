import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, HeraldError, type Subjects } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG, LOGGER, REDIS, type Redis, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { TIMEOUTS } from '../core/timeouts';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import { type Lease, LeasePool } from './lease-pool';

/** A replay's slot outlives a crashed gateway by at most this long. */
const REPLAY_LEASE_MS = 30_000;
const REPLAY_RENEW_MS = 10_000;
/** How long a replay waits for one of the user's slots before RATE_LIMITED. */
const REPLAY_WAIT_MS = 2_000;
/** The retryAfterMs of a replay refused after waiting. */
const REPLAY_RETRY_AFTER_MS = 1_000;

/**
 * MAX_CONCURRENT_REPLAYS_PER_USER: replays (each a JetStream consumer) of one user at once,
 * across every gateway instance. One more waits its turn for up to REPLAY_WAIT_MS, then is
 * RATE_LIMITED with retryAfterMs. The slot is released when the replay ends, however it ends.
 */
@Injectable()
export class ReplayLimiter implements OnModuleInit, BeforeApplicationShutdown {
  private readonly pool: LeasePool;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(CONFIG) config: Config,
    @Inject(SUBJECTS) subjects: Subjects,
    @Inject(LOGGER) logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.pool = new LeasePool(
      redis,
      {
        name: 'replays',
        keyOf: subjects.keys.replays,
        max: config.MAX_CONCURRENT_REPLAYS_PER_USER,
        leaseMs: REPLAY_LEASE_MS,
        renewEveryMs: REPLAY_RENEW_MS,
        owner: config.INSTANCE_ID,
        timeoutMs: TIMEOUTS.redisMs,
      },
      logger,
    );
  }

  /** Runs `replay` holding one of the user's replay slots. */
  async run<T>(userId: string, replay: () => Promise<T>): Promise<T> {
    const lease = await this.acquire(userId);
    try {
      return await replay();
    } finally {
      this.pool.release(lease);
    }
  }

  private async acquire(userId: string): Promise<Lease> {
    const deadline = Date.now() + REPLAY_WAIT_MS;
    for (let delay = 50; ; delay = Math.min(delay * 2, 400)) {
      const lease = await this.pool.acquire(userId);
      if (lease) return lease;
      const wait = Math.min(delay, deadline - Date.now());
      if (wait <= 0) {
        this.metrics.limitRefusals.inc({ limit: 'replays' });
        throw new HeraldError(ErrorCode.RATE_LIMITED, 'Too many replays at once. Please try again shortly.', REPLAY_RETRY_AFTER_MS);
      }
      await sleep(wait);
    }
  }

  onModuleInit(): void {
    this.pool.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }
}
