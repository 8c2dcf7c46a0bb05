import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HealthChecks, LOGGER, type Logger } from '@herald/messaging';
import { DataSource } from 'typeorm';

/** Provides the migrated, open DataSource; closes it last, once the event writer has stopped. */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  static forRoot(dataSource: DataSource): DynamicModule {
    return { module: DatabaseModule, providers: [{ provide: DataSource, useValue: dataSource }], exports: [DataSource] };
  }

  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    checks: HealthChecks,
  ) {
    checks.register('postgres', () => dataSource.query('SELECT 1'));
  }

  async onApplicationShutdown() {
    await this.dataSource.destroy().catch((err) => this.logger.warn({ err }, 'database close failed'));
  }
}
