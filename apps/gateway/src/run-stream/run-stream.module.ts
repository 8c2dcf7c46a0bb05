import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { LimitsModule } from '../limits/limits.module';
import { RunEventFeed } from './run-event-feed.service';
import { RunRecords } from './run-records.service';

/** One run's events as a stream (replay, then live), for the protocol adapters (AG-UI, the AI SDK). */
@Module({
  imports: [DeliveryModule, LimitsModule],
  providers: [RunEventFeed, RunRecords],
  exports: [RunEventFeed, RunRecords],
})
export class RunStreamModule {}
