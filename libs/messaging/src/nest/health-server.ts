import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import type { Config } from '@herald/contracts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import { HealthChecks } from './health-checks';
import { ServiceMetrics } from './service-metrics';
import { CONFIG, LOGGER } from './tokens';

/**
 * The small HTTP port of a service that has no HTTP API (orchestrator, worker, persistence)
 * for probes and scraping: `/health/live`, `/health/ready`, `/metrics`. HEALTH_PORT picks
 * the port (0: any free port, logged).
 */
@Injectable()
export class HealthServer implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private server?: Server;

  constructor(
    private readonly checks: HealthChecks,
    private readonly metrics: ServiceMetrics,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const reply = (status: number, body: string, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' }).end(body);
      };
      if (req.method !== 'GET') return reply(405, JSON.stringify({ error: { code: 'INVALID_INPUT', message: 'GET only' } }));
      if (path === '/health/live') return reply(200, JSON.stringify({ status: 'ok' }));
      if (path === '/health/ready') {
        return void this.checks.check().then((r) => reply(r.status === 'ready' ? 200 : 503, JSON.stringify(r)));
      }
      if (path === '/metrics') return void this.metrics.text().then((text) => reply(200, text, this.metrics.registry.contentType));
      reply(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found' } }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.HEALTH_PORT, () => resolve());
    });
    this.server = server;
    this.logger.info({ healthPort: this.port }, 'health and metrics on /health/live, /health/ready, /metrics');
  }

  /** Probes see `draining` as soon as the service starts stopping; the port closes last. */
  onModuleDestroy(): void {
    this.checks.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
