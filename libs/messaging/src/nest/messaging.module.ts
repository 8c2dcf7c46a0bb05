import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  Optional,
  type Provider,
  type Type,
} from '@nestjs/common';
import { subjects, type Subjects } from '@herald/contracts';
import { type Config } from '@herald/config';
import { TerminusModule } from '@nestjs/terminus';
import type { NatsConnection } from 'nats';
import { EventPublisher } from '../event-publisher';
import { JetStreamPublisher } from '../jetstream-publisher';
import { type Logger, ServiceMetrics, shutdownTracing } from '@herald/observability';
import { connectNats, ensureStreams, natsCredentials } from '../nats';
import { createRedis, type Redis } from '../redis';
import { RpcClient } from '../rpc';
import { withTimeout } from '../timeout';
import { HealthChecks } from './health-checks.service';
import { HEALTH_SERVER_OPTIONS, HealthServer, type HealthServerOptions } from './health-server.service';
import { BULLMQ_REDIS, CONFIG, LOGGER, NATS, REDIS, SUBJECTS } from './tokens';

export interface MessagingModuleOptions {
  /** The service's name, for the NATS connection name and logs. */
  service: string;
  config: Config;
  logger: Logger;
  /** Provide REDIS (a command connection). */
  redis?: boolean;
  /** Provide BULLMQ_REDIS (a connection for BullMQ queues and workers). */
  bullmq?: boolean;
  /** How long a storage RPC call waits for its answer (default 5 s). */
  rpcTimeoutMs?: number;
  /** Serve /health/live, /health/ready and /metrics on HEALTH_PORT (services without an HTTP API). */
  healthServer?: boolean;
  /** Serve /metrics alone on METRICS_PORT (the gateway: health on its public port, metrics off it). */
  metricsServer?: boolean;
}

const SHUTDOWN_STEP_MS = 3000;

/**
 * The connections every service shares, once: configuration, logger and subjects; NATS,
 * with Herald's streams ensured before anything uses it; the EVENTS publisher and the
 * storage RPC client; Redis when asked. They close last, after the service's own modules
 * have stopped taking work (onModuleDestroy runs before onApplicationShutdown).
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(opts: MessagingModuleOptions): DynamicModule {
    const { config, logger } = opts;
    const s = subjects(config.HERALD_NAMESPACE);
    const providers: Provider[] = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: SUBJECTS, useValue: s },
      ServiceMetrics,
      HealthChecks,
      {
        provide: NATS,
        inject: [ServiceMetrics, HealthChecks],
        useFactory: async (metrics: ServiceMetrics, checks: HealthChecks) => {
          const nc = await connectNats({
            url: config.NATS_URL,
            name: `${opts.service}-${config.INSTANCE_ID}`,
            logger,
            credentials: natsCredentials(config),
            // Refused credentials (logged fatal by connectNats): restarting is all that can help.
            onFatal: () => process.exit(1),
          });
          await ensureStreams(await nc.jetstreamManager(), s, {
            eventRetentionHours: config.EVENT_RETENTION_HOURS,
            replicas: config.NATS_STREAM_REPLICAS,
          });
          void (async () => {
            for await (const status of nc.status()) metrics.natsStatus.inc({ type: status.type });
          })();
          checks.register('nats', () => (nc.isClosed() ? Promise.reject(new Error('closed')) : nc.flush()));
          return nc;
        },
      },
      { provide: JetStreamPublisher, inject: [NATS], useFactory: (nc: NatsConnection) => new JetStreamPublisher(nc) },
      { provide: EventPublisher, inject: [JetStreamPublisher], useFactory: (js: JetStreamPublisher) => new EventPublisher(js, s) },
      {
        provide: RpcClient,
        inject: [NATS, ServiceMetrics],
        useFactory: (nc: NatsConnection, metrics: ServiceMetrics) =>
          new RpcClient(nc, s, {
            timeoutMs: opts.rpcTimeoutMs,
            logger,
            onFailure: (op, reason) => metrics.rpcFailures.inc({ op, reason }),
          }),
      },
      MessagingShutdown,
    ];
    const exported: Array<symbol | Type> = [
      CONFIG,
      LOGGER,
      SUBJECTS,
      NATS,
      JetStreamPublisher,
      EventPublisher,
      RpcClient,
      ServiceMetrics,
      HealthChecks,
    ];
    const redisProvider = (token: symbol, name: string, forBullmq: boolean): Provider => ({
      provide: token,
      inject: [ServiceMetrics, HealthChecks],
      useFactory: (metrics: ServiceMetrics, checks: HealthChecks) => {
        const redis = createRedis(config.REDIS_URL, logger, { forBullmq });
        redis.on('error', () => metrics.redisEvents.inc({ connection: name, event: 'error' }));
        redis.on('reconnecting', () => metrics.redisEvents.inc({ connection: name, event: 'reconnecting' }));
        checks.register(name, () => redis.ping());
        return redis;
      },
    });
    if (opts.redis) {
      providers.push(redisProvider(REDIS, 'redis', false));
      exported.push(REDIS);
    }
    if (opts.bullmq) {
      providers.push(redisProvider(BULLMQ_REDIS, 'bullmq_redis', true));
      exported.push(BULLMQ_REDIS);
    }
    if (opts.healthServer || opts.metricsServer) {
      const options: HealthServerOptions = opts.healthServer
        ? { port: config.HEALTH_PORT, health: true }
        : { port: config.METRICS_PORT, health: false };
      providers.push({ provide: HEALTH_SERVER_OPTIONS, useValue: options }, HealthServer);
      exported.push(HealthServer);
    }
    // Terminus runs the readiness checks (HealthChecks); its own logging is off, HealthChecks logs why a dependency is down.
    return { module: MessagingModule, imports: [TerminusModule.forRoot({ logger: false })], providers, exports: exported };
  }
}

@Injectable()
class MessagingShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(REDIS) private readonly redis?: Redis,
    @Optional() @Inject(BULLMQ_REDIS) private readonly bullRedis?: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.closeNats(), closeRedis(this.redis), closeRedis(this.bullRedis)]);
    // Last: the spans of the work that just stopped go out too.
    await withTimeout(shutdownTracing(), SHUTDOWN_STEP_MS, 'span export').catch(() => undefined);
  }

  private async closeNats(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await withTimeout(this.nc.drain(), SHUTDOWN_STEP_MS, 'nats drain');
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'nats drain failed; closing');
      await this.nc.close().catch(() => undefined);
    }
  }
}

async function closeRedis(redis?: Redis): Promise<void> {
  if (!redis) return;
  try {
    await withTimeout(redis.quit(), SHUTDOWN_STEP_MS, 'redis quit');
  } catch {
    redis.disconnect();
  }
}

export type { Subjects };
