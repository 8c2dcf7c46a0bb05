import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type Config, subjects, type Subjects } from '@herald/contracts';
import { TokenVerifier } from '@herald/auth';
import { connectNats, createRedis, ensureStreams, PersistenceClient, type Logger } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { ConnectionsShutdown } from './connections-shutdown.service';
import { HttpDrain } from './http-drain.service';
import { CONFIG, JETSTREAM, JETSTREAM_MANAGER, LOGGER, NATS, REDIS, SUBJECTS } from './core.tokens';
import { TIMEOUTS } from './timeouts';

export interface CoreOptions {
  config: Config;
  logger: Logger;
}

/**
 * Configuration and connections, shared by every feature module: NATS (with Herald's
 * streams ensured at boot), JetStream, Redis, the persistence RPC client, the token verifier.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot({ config, logger }: CoreOptions): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: SUBJECTS, useValue: subjects(config.HERALD_NAMESPACE) },
      {
        provide: NATS,
        useFactory: () => connectNats({ url: config.NATS_URL, name: `gateway-${config.INSTANCE_ID}`, logger }),
      },
      {
        provide: JETSTREAM_MANAGER,
        inject: [NATS, SUBJECTS],
        useFactory: async (nc: NatsConnection, s: Subjects) => {
          const jsm = await nc.jetstreamManager({ timeout: TIMEOUTS.jetstreamApiMs });
          await ensureStreams(jsm, s, { eventRetentionHours: config.EVENT_RETENTION_HOURS });
          return jsm;
        },
      },
      {
        provide: JETSTREAM,
        inject: [NATS, JETSTREAM_MANAGER],
        useFactory: (nc: NatsConnection) => nc.jetstream({ timeout: TIMEOUTS.natsPublishMs }),
      },
      { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL, logger) },
      {
        provide: PersistenceClient,
        inject: [NATS, SUBJECTS],
        useFactory: (nc: NatsConnection, s: Subjects) => new PersistenceClient(nc, s, TIMEOUTS.persistenceMs),
      },
      { provide: TokenVerifier, useFactory: () => TokenVerifier.fromConfig(config) },
      HttpDrain,
      ConnectionsShutdown,
    ];
    return {
      module: CoreModule,
      providers,
      exports: [CONFIG, LOGGER, SUBJECTS, NATS, JETSTREAM, JETSTREAM_MANAGER, REDIS, PersistenceClient, TokenVerifier],
    };
  }
}
