import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@herald/config';
import { MessagingModule } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { JobsModule } from './jobs/jobs.module';

/** The worker: runs sub-agents as BullMQ jobs and publishes what they do to the EVENTS stream. */
@Module({})
export class AppModule {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ service: 'worker', config, logger, redis: true, bullmq: true, healthServer: true }), JobsModule],
    };
  }
}
