import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { signDevToken } from '@herald/auth';
import { HeraldClient, type HeraldClientOptions } from '@herald/client';
import { subjects } from '@herald/contracts';
import IORedis from 'ioredis';
import { connect, type ConnectionOptions } from 'nats';
import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

/** The workspace root (the folder with nx.json), from the sources or from a compiled copy. */
export const ROOT = findRoot(__dirname);

function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'nx.json'))) return dir;
  throw new Error(`no nx.json above ${from}`);
}
/** The clusters' JWT_SECRET: a real (non-development) secret, so the services run as in production. */
export const CLUSTER_JWT_SECRET = 'herald-cluster-test-secret-0123456789abcdef';
const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/herald';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export type AppName = 'gateway' | 'orchestrator' | 'worker' | 'persistence';

export interface ClusterOptions {
  gateways?: number;
  /** Instances of the orchestrator and of the worker (default 1 each). */
  orchestrators?: number;
  workers?: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment for every instance of one app. */
  appEnv?: Partial<Record<AppName, Record<string, string>>>;
  /** Extra node options for every instance of one app (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: Partial<Record<AppName, string[]>>;
  /** How long each service may take to report ready at start (default 60 s; the bench, on a loaded machine, waits longer). */
  readyTimeoutMs?: number;
  /** Infrastructure other than the machine's (chaos tests start their own servers). */
  natsUrl?: string;
  /** Credentials for the cluster's own NATS connection (cleanup), for a server at natsUrl that refuses anonymous clients. */
  natsAuth?: Pick<ConnectionOptions, 'user' | 'pass' | 'inboxPrefix'>;
  /** HERALD_NAMESPACE (default: a random `e2e…`), e.g. one a NATS configuration was written for. */
  namespace?: string;
  redisUrl?: string;
  /** The Postgres server; the cluster's own database is created on it. */
  databaseUrl?: string;
}

/**
 * A port nothing listens on, for a service to bind a moment later. Picked at random below the
 * kernel's ephemeral range (32768-60999 here): a port the kernel handed out for `listen(0)` or
 * an outgoing connection could be handed to another process (another test file's service, a
 * client socket) before the service binds it; a random port of 20000-32767 rarely is.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found in 20000-32767');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => res(true)));
  });
}

export interface Service {
  app: AppName;
  name: string;
  process: ChildProcess;
  env: Record<string, string>;
  exited: Promise<number | null>;
  /** The gateway's HTTP API, or the health/metrics port of the other apps. */
  url: string;
  /** `/metrics`: the gateway's METRICS_PORT, the others' health port. */
  metricsUrl: string;
}

/**
 * Herald as real processes: the built apps (`apps/<app>/dist/main.js`), each in its own
 * Node process, sharing the machine's NATS, Redis and Postgres under a namespace and a
 * database of their own, with as many gateways as asked.
 */
export class Cluster {
  readonly namespace: string;
  readonly databaseUrl: string;
  readonly services: Service[] = [];
  readonly logDir: string;
  private readonly clients: HeraldClient[] = [];

  private constructor(private readonly opts: ClusterOptions) {
    this.namespace = opts.namespace ?? `e2e${randomBytes(4).toString('hex')}`;
    const url = new URL(opts.databaseUrl ?? BASE_DB);
    url.pathname = `/herald_${this.namespace}`;
    this.databaseUrl = url.toString();
    this.logDir = join(ROOT, 'test-output', 'e2e', this.namespace);
    mkdirSync(this.logDir, { recursive: true });
  }

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(opts);
    try {
      await cluster.migrate();
      await cluster.startService('persistence');
      for (let i = 0; i < (opts.workers ?? 1); i++) await cluster.startService('worker');
      for (let i = 0; i < (opts.orchestrators ?? 1); i++) await cluster.startService('orchestrator');
      for (let i = 0; i < (opts.gateways ?? 2); i++) await cluster.startService('gateway');
      await Promise.all(cluster.services.map((s) => cluster.waitReady(s, opts.readyTimeoutMs)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get env(): Record<string, string> {
    return {
      NODE_ENV: 'test',
      JWT_SECRET: CLUSTER_JWT_SECRET,
      METRICS_PORT: '0',
      HERALD_NAMESPACE: this.namespace,
      NATS_URL: this.natsUrl,
      REDIS_URL: this.redisUrl,
      DATABASE_URL: this.databaseUrl,
      LOG_LEVEL: 'info',
      ...this.opts.env,
    };
  }

  get natsUrl(): string {
    return this.opts.natsUrl ?? NATS_URL;
  }

  get redisUrl(): string {
    return this.opts.redisUrl ?? REDIS_URL;
  }

  /** The running (not yet exited) instances of one app. */
  running(app: AppName): Service[] {
    return this.services.filter((s) => s.app === app && s.process.exitCode === null && s.process.signalCode === null);
  }

  get gateways(): Service[] {
    return this.services.filter((s) => s.app === 'gateway');
  }

  gatewayUrl(index = 0): string {
    const url = this.gateways[index]?.url;
    if (!url) throw new Error(`no gateway ${index}`);
    return url;
  }

  private async migrate() {
    const res = spawnSync(process.execPath, [join(ROOT, 'libs/db/dist/migrate.cli.js')], {
      env: { ...process.env, ...this.env },
      encoding: 'utf8',
    });
    if (res.status !== 0) throw new Error(`migration failed: ${res.stderr || res.stdout}`);
  }

  /** The JSON (pino) lines a service (`worker-0`...) has logged so far; other output is skipped. */
  logLines(name: string): Array<Record<string, unknown>> {
    return readFileSync(join(this.logDir, `${name}.log`), 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  /** Starts one more instance of an app; its stdout/stderr go to test-output/e2e/<ns>/. */
  async startService(app: AppName, env: Record<string, string> = {}): Promise<Service> {
    const index = this.services.filter((s) => s.app === app).length;
    const name = `${app}-${index}`;
    // The gateway serves health on PORT and metrics on METRICS_PORT; the other apps both on HEALTH_PORT.
    const port = await freePort();
    const metricsPort = app === 'gateway' ? await freePort() : port;
    const fullEnv = {
      ...this.env,
      INSTANCE_ID: name,
      ...(app === 'gateway' ? { PORT: String(port), METRICS_PORT: String(metricsPort) } : { HEALTH_PORT: String(port) }),
      ...this.opts.appEnv?.[app],
      ...env,
    };
    const child = spawn(process.execPath, [...(this.opts.nodeArgs?.[app] ?? []), join(ROOT, 'apps', app, 'dist', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', ...fullEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const service: Service = {
      app,
      name,
      process: child,
      env: fullEnv,
      exited,
      url: `http://127.0.0.1:${port}`,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    };
    this.services.push(service);
    return service;
  }

  async waitReady(service: Service, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (service.process.exitCode !== null)
        throw new Error(`${service.name} exited with ${service.process.exitCode} (see ${this.logDir})`);
      try {
        const res = await fetch(`${service.url}/health/ready`);
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    throw new Error(`${service.name} not ready after ${timeoutMs} ms (see ${this.logDir})`);
  }

  /** Stops one service (SIGTERM for a graceful stop, SIGKILL for a crash). */
  async kill(service: Service, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (service.process.exitCode === null && service.process.signalCode === null) service.process.kill(signal);
    await service.exited;
  }

  token(userId: string, ttlSeconds = 3600, extra: { secret?: string } = {}): Promise<string> {
    return signDevToken(userId, extra.secret ?? CLUSTER_JWT_SECRET, { ttlSeconds });
  }

  /** A connected client of `userId` on gateway `gateway`. */
  async client(userId: string, gateway = 0, opts: Partial<HeraldClientOptions> = {}): Promise<HeraldClient> {
    const client = new HeraldClient({ url: this.gatewayUrl(gateway), token: await this.token(userId), ...opts });
    this.clients.push(client);
    await client.connect();
    return client;
  }

  async http(path: string, init: RequestInit & { userId?: string; gateway?: number } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.userId !== undefined) headers.set('authorization', `Bearer ${await this.token(init.userId)}`);
    if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(`${this.gatewayUrl(init.gateway ?? 0)}${path}`, { ...init, headers });
  }

  async stop(): Promise<void> {
    this.clients.forEach((c) => c.close());
    await Promise.all(this.services.map((s) => this.kill(s, 'SIGTERM')));
    await this.cleanup();
  }

  private async cleanup() {
    const s = subjects(this.namespace);
    const nc = await connect({ servers: this.natsUrl.split(','), ...this.opts.natsAuth });
    const jsm = await nc.jetstreamManager();
    for (const stream of Object.values(s.streams)) await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    const redis = new IORedis(this.redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.namespace}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    const admin = new URL(this.databaseUrl);
    const dbName = admin.pathname.slice(1);
    admin.pathname = '/postgres';
    const pg = new Client({ connectionString: admin.toString() });
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await pg.end();
  }
}
