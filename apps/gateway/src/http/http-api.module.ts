import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { RunsModule } from '../runs/runs.module';
import { BearerAuthGuard } from './bearer-auth.guard';
import { ConversationsController } from './conversations.controller';
import { DevTokenController } from './dev-token.controller';
import { EventsStreamController } from './events-stream.controller';
import { KnowledgeController } from './knowledge.controller';
import { RunsController } from './runs.controller';

/** The REST API of PROTOCOL.md §6 (JSON, `Authorization: Bearer <jwt>`). */
@Module({
  imports: [RunsModule, DeliveryModule],
  controllers: [ConversationsController, RunsController, EventsStreamController, DevTokenController, KnowledgeController],
  providers: [BearerAuthGuard],
})
export class HttpApiModule {}
