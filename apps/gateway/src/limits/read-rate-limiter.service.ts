import { ErrorCode, HeraldError, type Subjects, userToken } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG, LOGGER, REDIS, type Redis, SUBJECTS, withTimeout } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TIMEOUTS } from '../core/timeouts';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';

/**
 * READ_RATE_LIMIT_PER_MINUTE authenticated HTTP reads per user, counted in Redis across all
 * gateway instances (one round trip per read). While Redis fails, rate-limiter-flexible's
 * insurance limiter counts on this instance alone: reads go on, still bounded.
 */
@Injectable()
export class ReadRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(CONFIG) config: Config,
    @Inject(SUBJECTS) subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    const points = config.READ_RATE_LIMIT_PER_MINUTE;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: subjects.keys.readRateLimit,
      points,
      duration: 60,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points, duration: 60 }),
    });
  }

  /** Counts one read, or throws RATE_LIMITED with retryAfterMs. */
  async consume(userId: string): Promise<void> {
    try {
      await withTimeout(this.limiter.consume(userToken(userId)), TIMEOUTS.redisMs, 'read rate limiter');
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.metrics.limitRefusals.inc({ limit: 'reads' });
        throw new HeraldError(ErrorCode.RATE_LIMITED, 'Too many requests. Please wait a moment.', Math.max(1, Math.ceil(err.msBeforeNext)));
      }
      // Redis hangs (a failure would have gone to the insurance limiter): let the read through.
      this.logger.warn({ err: String(err) }, 'read rate limiter did not answer; the read goes through');
    }
  }
}
