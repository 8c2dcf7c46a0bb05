import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import type { Config } from '@herald/config';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, ServiceMetrics } from '@herald/observability';
import { HealthChecks } from './health-checks.service';
import { CONFIG, LOGGER } from './tokens';

/** What the operations port serves, and where. */
export interface HealthServerOptions {
  port: number;
  /** `/health/live` and `/health/ready` too (services without an HTTP API); else `/metrics` alone. */
  health: boolean;
}

export const HEALTH_SERVER_OPTIONS = Symbol('HEALTH_SERVER_OPTIONS');

/**
 * A service's small operations port, never its public one: for a service without an HTTP API
 * (orchestrator, worker, persistence) `/health/live`, `/health/ready` and `/metrics` on
 * HEALTH_PORT; for the gateway `/metrics` alone on METRICS_PORT (its probes use the public
 * port, its metrics stay off it). Port 0 picks any free port (logged); it binds HOST.
 */
@Injectable()
export class HealthServer implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private server?: Server;

  constructor(
    private readonly checks: HealthChecks,
    private readonly metrics: ServiceMetrics,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(HEALTH_SERVER_OPTIONS) private readonly options: HealthServerOptions,
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
      if (this.options.health && path === '/health/live') return reply(200, JSON.stringify({ status: 'ok' }));
      if (this.options.health && path === '/health/ready') {
        return void this.checks.check().then((r) => reply(r.status === 'ready' ? 200 : 503, JSON.stringify(r)));
      }
      if (path === '/metrics') return void this.metrics.text().then((text) => reply(200, text, this.metrics.registry.contentType));
      reply(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found' } }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.config.HOST, () => resolve());
    });
    this.server = server;
    if (this.options.health) this.logger.info({ healthPort: this.port }, 'health and metrics on /health/live, /health/ready, /metrics');
    else this.logger.info({ metricsPort: this.port }, 'metrics on /metrics');
  }

  /** Probes see `draining` as soon as the service starts stopping; the port closes last. */
  onModuleDestroy(): void {
    this.checks.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
