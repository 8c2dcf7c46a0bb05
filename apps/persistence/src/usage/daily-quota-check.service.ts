import { Inject, Injectable } from '@nestjs/common';
import { type DailyQuota, dailyQuotaOf, ErrorCode, HeraldError, nextUtcMidnight, quotaReached, utcDay } from '@herald/contracts';
import { type Config } from '@herald/config';
import { describeDatabaseError } from '@herald/db';
import { CONFIG, LOGGER } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { EntityManager } from 'typeorm';
import { UsageRepository } from './usage.repository';

/**
 * QUOTA_DAILY_TOKENS / QUOTA_DAILY_COST_USD, checked when a run is admitted (run.admit, the
 * path every gateway route shares): one primary-key read of the user's usage_daily row for
 * today (UTC), in the admission's transaction; none at all without a quota. A database that
 * cannot be read fails the admission (UNAVAILABLE): never a run admitted unchecked.
 */
@Injectable()
export class DailyQuotaCheck {
  private readonly quota: DailyQuota | null;

  constructor(
    @Inject(CONFIG) config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly usage: UsageRepository,
  ) {
    this.quota = dailyQuotaOf(config);
  }

  /** Whether a quota is configured (without one, check() reads nothing). */
  get enabled(): boolean {
    return this.quota !== null;
  }

  /** Throws QUOTA_EXCEEDED, with the time left until the next UTC midnight, once today's usage has reached a limit. */
  async check(db: EntityManager, userId: string, now: Date = new Date()): Promise<void> {
    if (!this.quota) return;
    let spent: { tokens: number; costUsd: number };
    try {
      spent = await this.usage.spentOn(db, userId, utcDay(now));
    } catch (err) {
      // Fail closed: with a quota configured, a run whose usage cannot be checked is not admitted.
      this.logger.warn({ err: describeDatabaseError(err) }, 'could not read the usage for the daily quota: run refused');
      throw new HeraldError(ErrorCode.UNAVAILABLE, 'Your usage could not be checked right now. Please try again shortly.', undefined, {
        cause: err,
      });
    }
    if (!quotaReached(this.quota, spent)) return;
    const resetsAt = nextUtcMidnight(now);
    throw new HeraldError(
      ErrorCode.QUOTA_EXCEEDED,
      `Your daily usage quota is spent. It resets at ${resetsAt.toISOString()} (midnight UTC).`,
      resetsAt.getTime() - now.getTime(),
    );
  }
}
