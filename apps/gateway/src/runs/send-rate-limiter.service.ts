import { ErrorCode, HeraldError, type Subjects } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG, LOGGER, REDIS, type Redis, SUBJECTS, withTimeout } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TIMEOUTS } from '../core/timeouts';

/** RATE_LIMIT_PER_MINUTE accepted messages per user, counted in Redis across all gateway instances. */
@Injectable()
export class SendRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(CONFIG) config: Config,
    @Inject(SUBJECTS) subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: subjects.keys.rateLimit,
      points: config.RATE_LIMIT_PER_MINUTE,
      duration: 60,
      rejectIfRedisNotReady: true,
    });
  }

  /** Takes one point, or throws RATE_LIMITED (with retryAfterMs) or UNAVAILABLE. */
  async consume(userId: string): Promise<void> {
    try {
      await withTimeout(this.limiter.consume(userId), TIMEOUTS.redisMs, 'rate limiter');
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        const retryAfterMs = Math.max(1, Math.ceil(err.msBeforeNext));
        throw new HeraldError(ErrorCode.RATE_LIMITED, 'Too many messages. Please wait a moment.', retryAfterMs);
      }
      this.logger.warn({ err: String(err) }, 'rate limiter unavailable');
      throw new HeraldError(ErrorCode.UNAVAILABLE, 'The service is busy. Please try again shortly.');
    }
  }

  /** Gives a point back when nothing was accepted after all (best effort). */
  async giveBack(userId: string): Promise<void> {
    try {
      await withTimeout(this.limiter.reward(userId, 1), TIMEOUTS.redisMs, 'rate limiter reward');
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'could not give a rate-limit point back');
    }
  }
}
