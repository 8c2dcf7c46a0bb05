import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@herald/config';
import { MessagingModule } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { RunsModule } from './runs/runs.module';

/** The orchestrator: takes run requests from JetStream and supervises each run's sub-agents. */
@Module({})
export class AppModule {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MessagingModule.forRoot({ service: 'orchestrator', config, logger, redis: true, bullmq: true, healthServer: true }),
        RunsModule,
      ],
    };
  }
}
