import { type EventData, subjects } from '@herald/contracts';
import { connectNats, EventPublisher, JetStreamPublisher } from '@herald/messaging';
import { Client } from 'pg';
import { Cluster } from '../../test/support/cluster';
import { infraProcesses, type NamedPid } from '../lib/proc-stat';
import { relayEvent, relayRun } from '../lib/relay-event';
import { RelayProducers } from './relay-producers';
import type { ProduceOutcome, Target } from './target';

/** Runs the backlog is spread over (each publishes in order, awaiting its acks, as a run does). */
const BACKLOG_RUNS = 500;

/** The bench's environment for every Herald service: no token delay, no per-user limit in the way. */
const HERALD_BENCH_ENV = {
  RATE_LIMIT_PER_MINUTE: '1000000',
  // The fleet may put several clients on one user, and its catch-up resumes long backlogs.
  MAX_CONNECTIONS_PER_USER: '100000',
  MAX_CONCURRENT_REPLAYS_PER_USER: '1000',
  READ_RATE_LIMIT_PER_MINUTE: '1000000',
  LOCAL_ENGINE_TOKEN_DELAY_MS: '0',
  LOG_LEVEL: 'warn',
  WORKER_CONCURRENCY: '64',
};

/**
 * Herald itself: the four built apps as real processes (two gateways), with their own
 * namespace and database (test/support/cluster.ts). Relay events are published by
 * producer processes exactly as the worker publishes them.
 */
export class HeraldTarget implements Target {
  readonly name = 'herald' as const;
  readonly description = 'Herald: 2 gateways, orchestrator, worker, persistence (real processes)';
  readonly runsAgents = true;
  readonly clientResume = true;
  private readonly producers: RelayProducers;
  private db?: Client;

  private constructor(
    readonly cluster: Cluster,
    producers: number,
  ) {
    this.producers = new RelayProducers({ mode: 'jetstream', natsUrl: cluster.natsUrl, namespace: cluster.namespace }, producers);
  }

  static async start(opts: { producers: number; profileDir?: string }): Promise<HeraldTarget> {
    const profile = opts.profileDir ? [`--cpu-prof`, `--cpu-prof-dir=${opts.profileDir}`] : [];
    const nodeArgs = { gateway: profile, orchestrator: profile, worker: profile, persistence: profile };
    // Five services starting at once on a loaded 2-core machine can take more than the tests' 30 s.
    const cluster = await Cluster.start({ gateways: 2, env: HERALD_BENCH_ENV, nodeArgs, readyTimeoutMs: 120_000 });
    return new HeraldTarget(cluster, opts.producers);
  }

  get urls(): string[] {
    return this.cluster.gateways.map((g) => g.url);
  }

  /** The services running now (a stopped persistence is replaced by a new one). */
  processes(): NamedPid[] {
    return this.cluster.services
      .filter((s) => s.process.exitCode === null && s.process.signalCode === null)
      .map((s) => ({ name: s.name, pid: s.process.pid ?? -1 }));
  }

  loadProcesses(): NamedPid[] {
    return this.producers.pids;
  }

  /** NATS (JetStream), Redis (BullMQ, limits), Postgres (this cluster's database's backends and the server's own processes). */
  infraProcesses(): NamedPid[] {
    return infraProcesses({ nats: true, redis: true, postgresDatabases: [new URL(this.cluster.databaseUrl).pathname.slice(1)] });
  }

  /** SIGKILLs the first gateway. */
  async killOne(): Promise<string> {
    const gateway = this.cluster.gateways[0];
    await this.cluster.kill(gateway, 'SIGKILL');
    return gateway.name;
  }

  memoryProcess() {
    const gateway = this.cluster.gateways[0];
    return { process: { name: gateway.name, pid: gateway.process.pid ?? -1 }, url: gateway.url };
  }

  produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome> {
    return this.producers.produce(users, rate, durationMs, tag);
  }

  /** Stops the persistence service (its durable consumer keeps its place in the stream). */
  async stopPersistence(): Promise<void> {
    for (const service of this.cluster.running('persistence')) await this.cluster.kill(service, 'SIGTERM');
  }

  /** Starts a persistence service and resolves once it is ready. */
  async startPersistence(): Promise<void> {
    await this.cluster.waitReady(await this.cluster.startService('persistence'));
  }

  /**
   * Publishes `count` events to the EVENTS stream as the worker does (EventPublisher), as
   * fast as acks come back, for users no client is connected as: a backlog for persistence.
   */
  async publishBacklog(count: number): Promise<{ firstId: number; lastId: number }> {
    const nc = await connectNats({ url: this.cluster.natsUrl, name: 'bench-backlog' });
    try {
      const publisher = new EventPublisher(new JetStreamPublisher(nc), subjects(this.cluster.namespace));
      const runs = Array.from({ length: BACKLOG_RUNS }, (_, i) => relayRun(`backlog-${i % 200}`));
      const perRun = Math.ceil(count / runs.length);
      let firstId = Infinity;
      let lastId = 0;
      await Promise.all(
        runs.map(async (run, r) => {
          for (let i = 0; i < perRun && r * perRun + i < count; i++) {
            const event = relayEvent(run, 'backlog');
            const id = await publisher.publish(run, 'message_delta', event.data as EventData<'message_delta'>, {
              progress: event.progress,
              msgId: `${run.runId}:b${i}`,
            });
            firstId = Math.min(firstId, id);
            lastId = Math.max(lastId, id);
          }
        }),
      );
      return { firstId, lastId };
    } finally {
      await nc.close();
    }
  }

  /** Rows of the event log with ids in [firstId, lastId]. */
  async storedBetween(firstId: number, lastId: number): Promise<number> {
    const { rows } = await (
      await this.database()
    ).query<{ n: string }>('SELECT count(*)::bigint AS n FROM events WHERE id BETWEEN $1 AND $2', [firstId, lastId]);
    return Number(rows[0].n);
  }

  /** Rows in the Postgres event log (what persistence has written so far). */
  async storedEvents(): Promise<number> {
    const { rows } = await (await this.database()).query<{ n: string }>('SELECT count(*)::bigint AS n FROM events');
    return Number(rows[0].n);
  }

  private async database(): Promise<Client> {
    if (!this.db) {
      this.db = new Client({ connectionString: this.cluster.databaseUrl });
      await this.db.connect();
    }
    return this.db;
  }

  async stop(): Promise<void> {
    await this.producers.stop();
    await this.db?.end().catch(() => undefined);
    await this.cluster.stop();
  }
}
