import { ErrorCode, HeraldError, type Subjects } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG, LOGGER, REDIS, type Redis, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { TIMEOUTS } from '../core/timeouts';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import { type Lease, LeasePool } from './lease-pool';

/** How long a connection's slot outlives its gateway without renewal (a crashed gateway's slots free within this). */
const CONNECTION_LEASE_MS = 30_000;
/** How often a gateway renews the slots of its open connections. */
const CONNECTION_RENEW_MS = 10_000;

export const TOO_MANY_CONNECTIONS_MESSAGE = 'too many connections';
/** What a refused connection is told to wait (`Retry-After`): a slot frees when another of the user's connections closes. */
const CONNECTION_RETRY_AFTER_MS = 5000;

/**
 * MAX_CONNECTIONS_PER_USER: the Socket.IO connections and SSE streams of one user, counted
 * together across every gateway instance (a LeasePool: one Redis round trip per admission,
 * one per release, renewals batched per instance).
 */
@Injectable()
export class ConnectionLimiter implements OnModuleInit, BeforeApplicationShutdown {
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
        name: 'connections',
        keyOf: subjects.keys.connections,
        max: config.MAX_CONNECTIONS_PER_USER,
        leaseMs: CONNECTION_LEASE_MS,
        renewEveryMs: CONNECTION_RENEW_MS,
        owner: config.INSTANCE_ID,
        timeoutMs: TIMEOUTS.redisMs,
      },
      logger,
    );
  }

  /** Takes one of the user's slots, or throws TOO_MANY_CONNECTIONS. */
  async admit(userId: string): Promise<Lease> {
    const lease = await this.pool.acquire(userId);
    if (!lease) {
      this.metrics.limitRefusals.inc({ limit: 'connections' });
      throw new HeraldError(
        ErrorCode.TOO_MANY_CONNECTIONS,
        `${TOO_MANY_CONNECTIONS_MESSAGE}: at most ${this.pool.max} connections and event streams per user`,
        CONNECTION_RETRY_AFTER_MS,
      );
    }
    return lease;
  }

  /** Frees the slot (idempotent). */
  release(lease: Lease): void {
    this.pool.release(lease);
  }

  onModuleInit(): void {
    this.pool.start();
  }

  /** After the sockets and streams were closed (onModuleDestroy), before Redis closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }
}
