import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { type Config, subjects } from '@herald/contracts';
import { connectNats, createRedis, ensureStreams, EventPublisher, type Logger, type Redis } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import type { Pool } from 'pg';
import { createKnowledgePool } from './knowledge-pool';
import { BULLMQ_REDIS, CONFIG, EVENT_PUBLISHER, KB_POOL, LOGGER, NATS, REDIS, SUBJECTS } from './tokens';

/**
 * The worker's connections: NATS (Herald's streams ensured) with the event publisher,
 * Redis for cancel flags, Redis for BullMQ, and the read-only knowledge-base pool.
 * They close last, after the BullMQ worker has finished its active jobs.
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
        {
          provide: NATS,
          useFactory: async () => {
            const nc = await connectNats({ url: config.NATS_URL, name: `worker-${config.INSTANCE_ID}`, logger });
            await ensureStreams(await nc.jetstreamManager(), s, { eventRetentionHours: config.EVENT_RETENTION_HOURS });
            return nc;
          },
        },
        { provide: EVENT_PUBLISHER, inject: [NATS], useFactory: (nc: NatsConnection) => new EventPublisher(nc.jetstream(), s) },
        { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL, logger) },
        { provide: BULLMQ_REDIS, useFactory: () => createRedis(config.REDIS_URL, logger, { forBullmq: true }) },
        { provide: KB_POOL, useFactory: () => createKnowledgePool(config, logger) },
      ],
      exports: [CONFIG, LOGGER, SUBJECTS, NATS, EVENT_PUBLISHER, REDIS, BULLMQ_REDIS, KB_POOL],
    };
  }

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(BULLMQ_REDIS) private readonly bullRedis: Redis,
    @Inject(KB_POOL) private readonly pool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown() {
    await Promise.all([
      this.nc.drain().catch((err) => this.logger.warn({ err }, 'nats drain failed')),
      this.redis.quit().catch(() => this.redis.disconnect()),
      this.bullRedis.quit().catch(() => this.bullRedis.disconnect()),
      this.pool.end().catch((err) => this.logger.warn({ err }, 'closing the knowledge base pool failed')),
    ]);
  }
}
