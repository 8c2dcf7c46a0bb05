import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@herald/contracts';
import type { Logger } from '@herald/messaging';
import { ConnectionsModule } from './infrastructure/connections.module';
import { JobsModule } from './jobs/jobs.module';

/** The worker: runs sub-agents as BullMQ jobs and publishes what they do to the EVENTS stream. */
@Module({})
export class AppModule {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    return { module: AppModule, imports: [ConnectionsModule.forRoot(config, logger), JobsModule] };
  }
}
