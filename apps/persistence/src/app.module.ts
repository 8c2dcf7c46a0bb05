import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@herald/contracts';
import type { Logger } from '@herald/messaging';
import { EventLogModule } from './event-log/event-log.module';
import { ConnectionsModule } from './infrastructure/connections.module';
import { RpcModule } from './rpc/rpc.module';

/**
 * Persistence: the only service that touches Herald's tables. It answers the other
 * services' queries over NATS request/reply (RpcModule) and writes every lifecycle event
 * from JetStream to the event log, storing a completed run's messages (EventLogModule).
 */
@Module({})
export class AppModule {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    return { module: AppModule, imports: [ConnectionsModule.forRoot(config, logger), RpcModule, EventLogModule] };
  }
}
