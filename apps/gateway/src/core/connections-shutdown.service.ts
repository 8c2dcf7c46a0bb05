import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger, Redis } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { LOGGER, NATS, REDIS } from './core.tokens';
import { TIMEOUTS } from './timeouts';
import { withTimeout } from './with-timeout';

/** Closes NATS and Redis last, once sockets and HTTP are done. */
@Injectable()
export class ConnectionsShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.closeNats(), this.closeRedis()]);
  }

  private async closeNats(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await withTimeout(this.nc.drain(), TIMEOUTS.shutdownStepMs, 'nats drain');
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'nats drain failed; closing');
      await this.nc.close().catch(() => undefined);
    }
  }

  private async closeRedis(): Promise<void> {
    try {
      await withTimeout(this.redis.quit(), TIMEOUTS.shutdownStepMs, 'redis quit');
    } catch {
      this.redis.disconnect();
    }
  }
}
