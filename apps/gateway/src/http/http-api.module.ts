import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { DeliveryModule } from '../delivery/delivery.module';
import { FeedbackModule } from '../feedback/feedback.module';
import { LimitsModule } from '../limits/limits.module';
import { ReadRateLimitInterceptor } from '../limits/read-rate-limit.interceptor';
import { RunsModule } from '../runs/runs.module';
import { BearerAuthGuard } from './bearer-auth.guard';
import { ConversationsController } from './conversations.controller';
import { DevTokenController } from './dev-token.controller';
import { EventsStreamController } from './events-stream.controller';
import { AdminFeedbackController, MessageFeedbackController } from './feedback.controller';
import { KnowledgeController } from './knowledge.controller';
import { RunEtags } from './run-etags.service';
import { RunsController } from './runs.controller';
import { UsageController } from './usage.controller';

/** The REST API of PROTOCOL.md §6 (JSON, `Authorization: Bearer <jwt>`). */
@Module({
  imports: [RunsModule, DeliveryModule, LimitsModule, FeedbackModule],
  controllers: [
    ConversationsController,
    RunsController,
    EventsStreamController,
    DevTokenController,
    KnowledgeController,
    UsageController,
    MessageFeedbackController,
    AdminFeedbackController,
  ],
  // Every authenticated GET under /v1 counts against READ_RATE_LIMIT_PER_MINUTE.
  providers: [BearerAuthGuard, RunEtags, { provide: APP_INTERCEPTOR, useClass: ReadRateLimitInterceptor }],
})
export class HttpApiModule {}
