import { benchScript } from '../lib/bench-paths';
import { BenchChild } from '../lib/ipc';
import { infraProcesses, type NamedPid } from '../lib/proc-stat';
import { RelayProducers } from './relay-producers';
import type { ProduceOutcome, Target, TargetName } from './target';

abstract class BaselineTarget implements Target {
  abstract readonly name: TargetName;
  abstract readonly description: string;
  abstract readonly runsAgents: boolean;
  readonly clientResume = false;

  protected constructor(
    protected readonly server: BenchChild,
    private readonly port: number,
  ) {}

  get urls(): string[] {
    return [`http://127.0.0.1:${this.port}`];
  }

  processes(): NamedPid[] {
    return [{ name: this.name, pid: this.server.pid }];
  }

  loadProcesses(): NamedPid[] {
    return [];
  }

  infraProcesses(): NamedPid[] {
    return [];
  }

  memoryProcess() {
    return { process: { name: this.name, pid: this.server.pid }, url: this.urls[0] };
  }

  abstract produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome>;

  async stop(): Promise<void> {
    await this.server.stop();
  }
}

/** Baseline 1: one Socket.IO process running the agents in-process (bench/baselines/direct.server.ts). */
export class DirectTarget extends BaselineTarget {
  readonly name = 'direct' as const;
  readonly description = 'direct: one Socket.IO process running the same agents in-process';
  readonly runsAgents = true;

  private constructor(
    server: BenchChild,
    port: number,
    private readonly kbDatabase: string,
  ) {
    super(server, port);
  }

  static async start(kbDatabaseUrl: string): Promise<DirectTarget> {
    const server = new BenchChild('direct', benchScript('bench/baselines/direct.server.js'));
    try {
      const { port } = await server.call<{ port: number }>('start', { databaseUrl: kbDatabaseUrl }, 30_000);
      return new DirectTarget(server, port, new URL(kbDatabaseUrl).pathname.slice(1));
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  /** Postgres: the knowledge base's backends and the server's own processes. */
  override infraProcesses(): NamedPid[] {
    return infraProcesses({ postgresDatabases: [this.kbDatabase] });
  }

  produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome> {
    return this.server.call<ProduceOutcome>('produce', { users, rate, durationMs, tag }, durationMs + 30_000);
  }
}

/** Baseline 2: publisher processes → core NATS → one Node process that parses and emits (bench/baselines/bare-relay.server.ts). */
export class BareRelayTarget extends BaselineTarget {
  readonly name = 'bare' as const;
  readonly description = 'bare relay: publishers → core NATS → one Node process → Socket.IO';
  readonly runsAgents = false;

  private constructor(
    server: BenchChild,
    port: number,
    private readonly producers: RelayProducers,
  ) {
    super(server, port);
  }

  static async start(opts: { natsUrl: string; namespace: string; producers: number }): Promise<BareRelayTarget> {
    const server = new BenchChild('bare', benchScript('bench/baselines/bare-relay.server.js'));
    try {
      const { port } = await server.call<{ port: number }>('start', { natsUrl: opts.natsUrl, namespace: opts.namespace }, 30_000);
      return new BareRelayTarget(server, port, new RelayProducers({ mode: 'core', ...opts }, opts.producers));
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome> {
    return this.producers.produce(users, rate, durationMs, tag);
  }

  override loadProcesses(): NamedPid[] {
    return this.producers.pids;
  }

  override infraProcesses(): NamedPid[] {
    return infraProcesses({ nats: true });
  }

  override async stop(): Promise<void> {
    await this.producers.stop();
    await super.stop();
  }
}
