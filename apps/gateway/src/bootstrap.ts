import { TokenVerifier } from '@herald/auth';
import { type Config, loadConfig } from '@herald/config';
import { HealthServer } from '@herald/messaging';
import { createLogger, initTracing, PinoNestLogger, type Logger } from '@herald/observability';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { HttpErrorFilter } from './http/http-error.filter';
import { answerClientErrors } from './http/client-errors';
import { jsonBody } from './http/json-body';
import { OriginPolicy } from './http/origin-policy';
import { HeraldIoAdapter } from './socket/herald-io.adapter';

/** The web client as `npm run build:web` bundles it (apps/gateway/public/dist), found from src/ and dist/ alike. */
const PUBLIC_DIR = join(__dirname, '..', 'public', 'dist');

export interface GatewayOptions {
  /** Defaults to loadConfig() (the environment). */
  config?: Config;
  logger?: Logger;
  /** Close gracefully on SIGTERM/SIGINT (true for the real process, false in tests). */
  shutdownHooks?: boolean;
}

export interface RunningGateway {
  app: NestExpressApplication;
  port: number;
  url: string;
  /** `/metrics`, on METRICS_PORT (never the public port). */
  metricsUrl: string;
  close(): Promise<void>;
}

/** Builds the gateway application (not listening yet). */
async function createGateway(config: Config, logger: Logger): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, logger }), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('etag', false);
  // Browsers: the page's own origin and CORS_ORIGINS only, refused before anything is read.
  const origins = new OriginPolicy(config.CORS_ORIGINS);
  app.use(origins.middleware());
  app.enableCors({ origin: origins.listed === '*' ? true : origins.listed, exposedHeaders: ['ETag', 'Retry-After'], maxAge: 600 });
  // Bodies are read only after the bearer token is checked (unauthenticated ones: a few KiB).
  app.use(...jsonBody(app.get(TokenVerifier)));
  app.useGlobalFilters(new HttpErrorFilter(logger));
  app.useWebSocketAdapter(new HeraldIoAdapter(app, origins));
  app.useStaticAssets(PUBLIC_DIR, { index: 'index.html', maxAge: '5m' });
  return app;
}

/** Starts the gateway on config.PORT (0 picks a free port) and resolves once it listens. */
export async function bootstrap(opts: GatewayOptions = {}): Promise<RunningGateway> {
  const config = opts.config ?? loadConfig();
  const logger = opts.logger ?? createLogger('gateway', config.LOG_LEVEL);
  initTracing('gateway', config, logger);
  if (config.usingDevSecret && !config.JWKS_URL) {
    logger.warn(
      { host: config.HOST },
      'development mode: tokens are signed with the public development secret (they prove a name, never a role). Set JWT_SECRET or JWKS_URL for anything else.',
    );
  }
  const app = await createGateway(config, logger);
  if (opts.shutdownHooks ?? true) app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  answerClientErrors(app.getHttpServer());
  await app.listen(config.PORT, config.HOST);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const host = reachableHost(config.HOST);
  const metricsUrl = `http://${host}:${app.get(HealthServer).port}/metrics`;
  logger.info({ host: config.HOST, port, instanceId: config.INSTANCE_ID, namespace: config.HERALD_NAMESPACE }, 'gateway listening');
  return { app, port, url: `http://${host}:${port}`, metricsUrl, close: () => app.close() };
}

/** Where a local client reaches a server bound to `host` (every interface: loopback). */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
