import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '@herald/contracts';
import type { Logger } from '@herald/messaging';
import { ConnectionsModule } from './infrastructure/connections.module';
import { RunsModule } from './runs/runs.module';

/** The orchestrator: takes run requests from JetStream and supervises each run's sub-agents. */
@Module({})
export class AppModule {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    return { module: AppModule, imports: [ConnectionsModule.forRoot(config, logger), RunsModule] };
  }
}
