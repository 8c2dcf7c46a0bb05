import { Module } from '@nestjs/common';
import { DailyQuotaCheck } from './daily-quota-check.service';
import { UsageQueries } from './usage-queries.service';
import { UsageRepository } from './usage.repository';

@Module({
  providers: [UsageRepository, UsageQueries, DailyQuotaCheck],
  exports: [UsageRepository, UsageQueries, DailyQuotaCheck],
})
export class UsageModule {}
