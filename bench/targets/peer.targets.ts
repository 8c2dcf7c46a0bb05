import { randomBytes } from 'node:crypto';
import { benchScript } from '../lib/bench-paths';
import { BenchChild } from '../lib/ipc';
import { LANGGRAPH_ENV, loadPeer, type RedisModule } from '../lib/peers';
import { infraProcesses, type NamedPid } from '../lib/proc-stat';
import { RelayProducers } from './relay-producers';
import type { ProduceOutcome, Target } from './target';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Stops children, ignoring the ones already gone. */
async function stopAll(children: BenchChild[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
}

/**
 * Peer (4): two Socket.IO 4.8 servers with the Redis Streams adapter and connection state
 * recovery (bench/baselines/socketio-peer.server.ts), clients spread over them as over
 * Herald's two gateways; producer processes emit the events to the users' rooms through
 * the adapter (one Redis stream per bench run, deleted at the end).
 */
export class SocketIoPeerTarget implements Target {
  readonly name = 'socketio' as const;
  readonly description =
    'Socket.IO 4.8 + @socket.io/redis-streams-adapter with connectionStateRecovery: 2 servers, producers emitting to rooms through Redis';
  readonly runsAgents = false;
  readonly clientResume = false;

  private constructor(
    private readonly servers: BenchChild[],
    private readonly ports: number[],
    private readonly streamName: string,
    private readonly producers: RelayProducers,
  ) {}

  static async start(opts: { producers: number }): Promise<SocketIoPeerTarget> {
    const streamName = `bench-socketio-${randomBytes(4).toString('hex')}`;
    const servers: BenchChild[] = [];
    try {
      const ports: number[] = [];
      for (let i = 0; i < 2; i++) {
        const server = new BenchChild(`socketio-${i}`, benchScript('bench/baselines/socketio-peer.server.js'));
        servers.push(server);
        const { port } = await server.call<{ port: number }>('start', { redisUrl: REDIS_URL, streamName, name: server.name }, 30_000);
        ports.push(port);
      }
      const producers = new RelayProducers(
        { mode: 'socketio', natsUrl: '', namespace: '', redisUrl: REDIS_URL, streamName },
        opts.producers,
      );
      return new SocketIoPeerTarget(servers, ports, streamName, producers);
    } catch (err) {
      await stopAll(servers);
      throw err;
    }
  }

  get urls(): string[] {
    return this.ports.map((port) => `http://127.0.0.1:${port}`);
  }

  processes(): NamedPid[] {
    return this.servers
      .filter((s) => s.process.exitCode === null && s.process.signalCode === null)
      .map((s) => ({ name: s.name, pid: s.pid }));
  }

  infraProcesses(): NamedPid[] {
    return infraProcesses({ redis: true });
  }

  loadProcesses(): NamedPid[] {
    return this.producers.pids;
  }

  memoryProcess() {
    return { process: { name: this.servers[0].name, pid: this.servers[0].pid }, url: this.urls[0] };
  }

  produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome> {
    return this.producers.produce(users, rate, durationMs, tag);
  }

  /** SIGKILLs the first server. */
  async killOne(): Promise<string> {
    const victim = this.servers[0];
    victim.process.kill('SIGKILL');
    await victim.exited;
    return victim.name;
  }

  async reconnections(): Promise<{ recovered: number; fresh: number }> {
    const all = await Promise.all(
      this.servers
        .filter((s) => s.process.exitCode === null && s.process.signalCode === null)
        .map((s) => s.call<{ recovered: number; fresh: number }>('reconnections')),
    );
    return { recovered: all.reduce((a, r) => a + r.recovered, 0), fresh: all.reduce((a, r) => a + r.fresh, 0) };
  }

  async stop(): Promise<void> {
    await this.producers.stop();
    await stopAll(this.servers);
    const redis = loadPeer<RedisModule>('redis').createClient({ url: REDIS_URL });
    redis.on('error', () => undefined);
    await redis.connect();
    await redis.del(this.streamName);
    await redis.quit();
  }
}

/**
 * Peer (3): the LangGraph JS Agent Server in memory, one process
 * (bench/baselines/langgraph.server.ts), running Herald's three steps as a graph; runs only
 * (its clients are the SDK: bench/agents/langgraph-client.ts).
 */
export class LangGraphTarget implements Target {
  readonly name = 'langgraph' as const;
  readonly description =
    'LangGraph JS Agent Server (@langchain/langgraph-api in this process, in memory, 10 workers), the same agents as a 3-node graph streaming `custom` events';
  readonly runsAgents = false;
  readonly clientResume = false;

  private constructor(
    private readonly server: BenchChild,
    private readonly port: number,
    private readonly kbDatabase: string,
  ) {}

  static async start(kbDatabaseUrl: string): Promise<LangGraphTarget> {
    const server = new BenchChild('langgraph', benchScript('bench/baselines/langgraph.server.js'), LANGGRAPH_ENV);
    try {
      const { port } = await server.call<{ port: number }>('start', { databaseUrl: kbDatabaseUrl }, 120_000);
      return new LangGraphTarget(server, port, new URL(kbDatabaseUrl).pathname.slice(1));
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  get urls(): string[] {
    return [`http://127.0.0.1:${this.port}`];
  }

  processes(): NamedPid[] {
    return [{ name: this.name, pid: this.server.pid }];
  }

  /** Postgres: the knowledge base's backends (the knowledge step's search) and the server's own processes. */
  infraProcesses(): NamedPid[] {
    return infraProcesses({ postgresDatabases: [this.kbDatabase] });
  }

  loadProcesses(): NamedPid[] {
    return [];
  }

  memoryProcess() {
    return { process: { name: this.name, pid: this.server.pid }, url: this.urls[0] };
  }

  produce(): Promise<ProduceOutcome> {
    return Promise.reject(new Error('the LangGraph peer runs the runs workload only'));
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}
