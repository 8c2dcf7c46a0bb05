import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { FeedbackModule } from '../feedback/feedback.module';
import { LimitsModule } from '../limits/limits.module';
import { RunsModule } from '../runs/runs.module';
import { ClientEventHandlers } from './client-event-handlers.service';
import { EventsGateway } from './events.gateway';

@Module({
  imports: [DeliveryModule, RunsModule, LimitsModule, FeedbackModule],
  providers: [EventsGateway, ClientEventHandlers],
})
export class SocketModule {}
