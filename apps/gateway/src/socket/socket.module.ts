import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { LimitsModule } from '../limits/limits.module';
import { RunsModule } from '../runs/runs.module';
import { ClientEventHandlers } from './client-event-handlers';
import { EventsGateway } from './events.gateway';

@Module({
  imports: [DeliveryModule, RunsModule, LimitsModule],
  providers: [EventsGateway, ClientEventHandlers],
})
export class SocketModule {}
