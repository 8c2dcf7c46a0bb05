import { Module } from '@nestjs/common';
import { UsageModule } from '../usage/usage.module';
import { EventLogMetrics } from './event-log-metrics.service';
import { EventLogQueries } from './event-log-queries.service';
import { EventLogRepository } from './event-log.repository';
import { EventWriter } from './event-writer.service';

@Module({
  imports: [UsageModule],
  providers: [EventLogRepository, EventWriter, EventLogQueries, EventLogMetrics],
  exports: [EventLogQueries],
})
export class EventLogModule {}
