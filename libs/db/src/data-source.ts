import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export interface DataSourceOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** How long to wait for a connection to open (default 5 s). */
  connectTimeoutMs?: number;
}

/**
 * A TypeORM DataSource for Herald's database (not yet initialized). The schema comes only
 * from the migrations: `synchronize` is off, always.
 */
export function createDataSource(databaseUrl: string, opts: DataSourceOptions = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: opts.poolSize ?? 10,
    applicationName: opts.applicationName ?? 'herald',
    connectTimeoutMS: opts.connectTimeoutMs ?? 5000,
  });
}
