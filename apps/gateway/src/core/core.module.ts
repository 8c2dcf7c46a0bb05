import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Config } from '@herald/config';
import { TokenVerifier } from '@herald/auth';
import { MessagingModule, NATS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { NatsConnection } from 'nats';
import { HttpDrain } from './http-drain.service';
import { JETSTREAM, JETSTREAM_MANAGER } from './core.tokens';
import { TIMEOUTS } from './timeouts';

export interface CoreOptions {
  config: Config;
  logger: Logger;
}

/**
 * Configuration and connections, shared by every feature module: the shared messaging
 * connections (NATS with Herald's streams, Redis, the storage RpcClient), JetStream with
 * the gateway's timeouts, the token verifier.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot({ config, logger }: CoreOptions): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        MessagingModule.forRoot({
          service: 'gateway',
          config,
          logger,
          redis: true,
          metricsServer: true,
          rpcTimeoutMs: TIMEOUTS.persistenceMs,
        }),
      ],
      providers: [
        {
          provide: JETSTREAM_MANAGER,
          inject: [NATS],
          useFactory: (nc: NatsConnection) => nc.jetstreamManager({ timeout: TIMEOUTS.jetstreamApiMs }),
        },
        { provide: JETSTREAM, inject: [NATS], useFactory: (nc: NatsConnection) => nc.jetstream({ timeout: TIMEOUTS.natsPublishMs }) },
        { provide: TokenVerifier, useFactory: () => TokenVerifier.fromConfig(config) },
        HttpDrain,
      ],
      exports: [JETSTREAM, JETSTREAM_MANAGER, TokenVerifier],
    };
  }
}
