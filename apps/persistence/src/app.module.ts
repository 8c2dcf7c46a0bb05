import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@herald/config';
import { MessagingModule } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { DataSource } from 'typeorm';
import { EventLogModule } from './event-log/event-log.module';
import { DatabaseModule } from './infrastructure/database.module';
import { RpcModule } from './rpc/rpc.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * Persistence: the only service that touches Herald's tables. It answers the other
 * services' queries over NATS request/reply (RpcModule) and writes every lifecycle event
 * from JetStream to the event log, storing a completed run's messages (EventLogModule).
 * With WEBHOOK_URLS it also sends the runs' webhooks (WebhooksModule, on Redis); without
 * them nothing of it runs and Redis is not used.
 */
@Module({})
export class AppModule {
  static forRoot(config: Config, logger: Logger, dataSource: DataSource): DynamicModule {
    const webhooks = config.WEBHOOK_URLS.length > 0;
    return {
      module: AppModule,
      imports: [
        MessagingModule.forRoot({ service: 'persistence', config, logger, healthServer: true, bullmq: webhooks }),
        DatabaseModule.forRoot(dataSource),
        RpcModule,
        EventLogModule,
        ...(webhooks ? [WebhooksModule] : []),
      ],
    };
  }
}
