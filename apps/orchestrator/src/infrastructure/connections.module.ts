import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type Config, subjects, type Subjects } from '@herald/contracts';
import { connectNats, createRedis, ensureStreams, type Logger, PersistenceClient, type Redis } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { BULLMQ_REDIS, CONFIG, LOGGER, NATS, PERSISTENCE, REDIS, SUBJECTS } from './tokens';

/**
 * The orchestrator's connections: NATS (with Herald's streams ensured), Redis for
 * conversation scheduling and cancel flags, and a second Redis connection for BullMQ.
 */
@Global()
@Module({})
export class ConnectionsModule implements OnApplicationShutdown {
  static forRoot(config: Config, logger: Logger) {
    const s = subjects(config.HERALD_NAMESPACE);
    return {
      module: ConnectionsModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: SUBJECTS, useValue: s },
        {
          provide: NATS,
          useFactory: async () => {
            const nc = await connectNats({ url: config.NATS_URL, name: `orchestrator-${config.INSTANCE_ID}`, logger });
            await ensureStreams(await nc.jetstreamManager(), s, { eventRetentionHours: config.EVENT_RETENTION_HOURS });
            return nc;
          },
        },
        { provide: PERSISTENCE, inject: [NATS], useFactory: (nc: NatsConnection) => new PersistenceClient(nc, s) },
        { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL, logger) },
        { provide: BULLMQ_REDIS, useFactory: () => createRedis(config.REDIS_URL, logger, { forBullmq: true }) },
      ],
      exports: [CONFIG, LOGGER, SUBJECTS, NATS, PERSISTENCE, REDIS, BULLMQ_REDIS],
    };
  }

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(BULLMQ_REDIS) private readonly bullRedis: Redis,
  ) {}

  async onApplicationShutdown() {
    await this.nc.drain().catch(() => undefined);
    this.redis.disconnect();
    this.bullRedis.disconnect();
  }
}

export type { Subjects };
