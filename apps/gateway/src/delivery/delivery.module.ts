import { Module } from '@nestjs/common';
import { LimitsModule } from '../limits/limits.module';
import { EventReplayService } from './event-replay.service';
import { EventStreamService } from './event-stream.service';
import { EventsResumeService } from './events-resume.service';
import { LiveDeliveryService } from './live-delivery.service';
import { LiveGapRecovery } from './live-gap-recovery.service';

/** Getting events to users: live per-user subscriptions, replay (stream and event log), SSE, catching up after a NATS reconnect. */
@Module({
  imports: [LimitsModule],
  providers: [LiveDeliveryService, EventReplayService, EventsResumeService, EventStreamService, LiveGapRecovery],
  exports: [LiveDeliveryService, EventReplayService, EventsResumeService, EventStreamService],
})
export class DeliveryModule {}
