import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { type Config, subjects } from '@herald/contracts';
import { connectNats, ensureStreams, type Logger } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { openDatabase } from './database';
import { CONFIG, LOGGER, NATS, SUBJECTS } from './tokens';

/**
 * The persistence service's connections: Postgres (migrated at start) and NATS (with
 * Herald's streams ensured). NATS connects only once the database is ready, so an instance
 * that cannot migrate never takes work.
 */
@Global()
@Module({})
export class ConnectionsModule implements OnApplicationShutdown {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    const s = subjects(config.HERALD_NAMESPACE);
    return {
      module: ConnectionsModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: SUBJECTS, useValue: s },
        { provide: DataSource, useFactory: () => openDatabase(config, logger) },
        {
          provide: NATS,
          inject: [DataSource],
          useFactory: async () => {
            const nc = await connectNats({ url: config.NATS_URL, name: `persistence-${config.INSTANCE_ID}`, logger });
            await ensureStreams(await nc.jetstreamManager(), s, { eventRetentionHours: config.EVENT_RETENTION_HOURS });
            return nc;
          },
        },
      ],
      exports: [CONFIG, LOGGER, SUBJECTS, NATS, DataSource],
    };
  }

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Runs after every consumer has stopped (onModuleDestroy): flush NATS, then close the pool. */
  async onApplicationShutdown() {
    await this.nc.drain().catch((err) => this.logger.warn({ err }, 'nats drain failed'));
    await this.dataSource.destroy().catch((err) => this.logger.warn({ err }, 'database close failed'));
    this.logger.info('persistence stopped');
  }
}
