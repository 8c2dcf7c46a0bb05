import { Module } from '@nestjs/common';
import { EventReplayService } from './event-replay.service';
import { EventStreamService } from './event-stream.service';
import { EventsResumeService } from './events-resume.service';
import { LiveDeliveryService } from './live-delivery.service';

/** Getting events to users: live per-user subscriptions, replay from the EVENTS stream, SSE. */
@Module({
  providers: [LiveDeliveryService, EventReplayService, EventsResumeService, EventStreamService],
  exports: [LiveDeliveryService, EventsResumeService, EventStreamService],
})
export class DeliveryModule {}
