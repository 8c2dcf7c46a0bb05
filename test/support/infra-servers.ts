import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort, ROOT } from './cluster';
import { setTimeout as sleep } from 'node:timers/promises';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const LOG_DIR = join(ROOT, 'test-output', 'chaos');

/** Resolves once something accepts TCP connections on the port. */
export async function untilListening(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * A server process of the test's own (never the machine's shared ones) on a free loopback
 * port, with its data in a temporary folder that outlives restarts.
 */
abstract class OwnServer {
  protected process?: ChildProcess;
  protected exited?: Promise<void>;
  readonly dir: string;

  constructor(
    readonly name: string,
    readonly port: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `herald-chaos-${name}-`));
    mkdirSync(LOG_DIR, { recursive: true });
  }

  protected abstract command(): { file: string; args: string[]; uid?: number; gid?: number };

  async start(): Promise<void> {
    const { file, args, uid, gid } = this.command();
    // Its own process group, so that a crash takes every process of the server (Postgres' backends too).
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], uid, gid, cwd: this.dir, detached: true });
    const log = createWriteStream(join(LOG_DIR, `${this.name}.log`), { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await untilListening(this.port);
    await this.ready();
  }

  protected async ready(): Promise<void> {}

  /** The signal of the server's own graceful (fast) stop. */
  protected readonly gracefulSignal: NodeJS.Signals = 'SIGTERM';

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** By default the server's own graceful stop; SIGKILL is a crash of every process of the server. */
  async stop(signal: NodeJS.Signals = this.gracefulSignal): Promise<void> {
    if (this.running) {
      if (signal === 'SIGKILL') process.kill(-this.process!.pid!, signal);
      else this.process!.kill(signal);
    }
    await this.exited;
  }

  async restart(signal: NodeJS.Signals = this.gracefulSignal): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface NatsClusterPeer {
  name: string;
  clusterPort: number;
}

/** nats-server with JetStream and a file store; optionally one node of a cluster. */
export class NatsServer extends OwnServer {
  private constructor(
    name: string,
    port: number,
    private readonly peers?: { self: NatsClusterPeer; all: NatsClusterPeer[] },
  ) {
    super(name, port);
  }

  static async start(name = 'nats'): Promise<NatsServer> {
    const server = new NatsServer(name, await freePort());
    await server.start();
    return server;
  }

  /** Three (or `size`) nodes on loopback, routed to each other, JetStream on every one. */
  static async cluster(size = 3): Promise<NatsServer[]> {
    const all: NatsClusterPeer[] = [];
    for (let i = 0; i < size; i++) all.push({ name: `nats-${i}`, clusterPort: await freePort() });
    const nodes: NatsServer[] = [];
    for (const self of all) nodes.push(new NatsServer(self.name, await freePort(), { self, all }));
    await Promise.all(nodes.map((n) => n.start()));
    return nodes;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  protected command() {
    const config = join(this.dir, 'nats.conf');
    const lines = [`server_name: ${this.name}`, `listen: 127.0.0.1:${this.port}`, `jetstream { store_dir: "${join(this.dir, 'js')}" }`];
    if (this.peers) {
      const routes = this.peers.all.filter((p) => p !== this.peers!.self).map((p) => `nats-route://127.0.0.1:${p.clusterPort}`);
      lines.push(`cluster { name: herald_chaos, listen: 127.0.0.1:${this.peers.self.clusterPort}, routes: [${routes.join(', ')}] }`);
    }
    writeFileSync(config, `${lines.join('\n')}\n`);
    return { file: '/usr/sbin/nats-server', args: ['-c', config] };
  }

  /** JetStream answers (on a cluster, once a meta leader is elected). */
  protected override async ready(): Promise<void> {
    if (this.peers) return;
    await untilJetStream(this.url);
  }
}

/** Resolves once JetStream answers account info through `servers`. */
export async function untilJetStream(servers: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: servers.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  try {
    for (;;) {
      try {
        await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  } finally {
    await nc.close();
  }
}

/** redis-server with an append-only file, so a restart keeps what it had accepted. */
export class RedisServer extends OwnServer {
  static async start(): Promise<RedisServer> {
    const server = new RedisServer('redis', await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  protected command() {
    return {
      file: 'redis-server',
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--save', ''],
    };
  }
}

/** A PostgreSQL 15 cluster of its own (initdb once, trust on loopback), run as the postgres user. */
export class PostgresServer extends OwnServer {
  private ids = { uid: 0, gid: 0 };
  /** Fast shutdown: SIGTERM (smart) would wait for every client to leave. */
  protected override readonly gracefulSignal: NodeJS.Signals = 'SIGINT';

  static async start(): Promise<PostgresServer> {
    const server = new PostgresServer('postgres', await freePort());
    server.init();
    await server.start();
    return server;
  }

  /** The server's URL for the database `name`. */
  url(name = 'herald'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  private init(): void {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    if (process.getuid?.() === 0) this.ids = { uid: id('-u'), gid: id('-g') };
    chownSync(this.dir, this.ids.uid || process.getuid!(), this.ids.gid || process.getgid!());
    const res = spawnSync(
      join(PG_BIN, 'initdb'),
      ['-D', join(this.dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'],
      { encoding: 'utf8', ...(this.ids.uid ? this.ids : {}) },
    );
    if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr || res.stdout}`);
  }

  protected command() {
    return {
      file: join(PG_BIN, 'postgres'),
      args: ['-D', join(this.dir, 'data'), '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-k', this.dir, '-c', 'fsync=off'],
      ...(this.ids.uid ? this.ids : {}),
    };
  }
}
