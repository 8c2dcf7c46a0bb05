import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HealthChecks, LOGGER } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { DataSource } from 'typeorm';
import { DatabaseMetrics } from './database-metrics.service';

/** Provides the migrated, open DataSource; closes it last, once the event writer has stopped. */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  static forRoot(dataSource: DataSource): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DataSource, useValue: dataSource }, DatabaseMetrics],
      exports: [DataSource, DatabaseMetrics],
    };
  }

  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    checks: HealthChecks,
    metrics: DatabaseMetrics,
  ) {
    checks.register('postgres', () => dataSource.query('SELECT 1'));
    // A pooled connection that breaks while idle (the server restarted, a network cut) surfaces
    // only here; the queries that fail meanwhile are counted where they ran.
    const pool = (dataSource.driver as { master?: { on(event: 'error', listener: (err: unknown) => void): void } }).master;
    pool?.on('error', (err) => metrics.failed('pool', err));
  }

  async onApplicationShutdown() {
    await this.dataSource.destroy().catch((err) => this.logger.warn({ err }, 'database close failed'));
  }
}
