import { Client } from 'pg';
import { Cluster } from '../../test/e2e/support/cluster';
import type { NamedPid } from '../lib/proc-stat';
import { RelayProducers } from './relay-producers';
import type { ProduceOutcome, Target } from './target';

/** The bench's environment for every Herald service: no token delay, no rate limit in the way. */
export const HERALD_BENCH_ENV = {
  RATE_LIMIT_PER_MINUTE: '1000000',
  LOCAL_ENGINE_TOKEN_DELAY_MS: '0',
  LOG_LEVEL: 'warn',
  WORKER_CONCURRENCY: '64',
};

/**
 * Herald itself: the four built apps as real processes (two gateways), with their own
 * namespace and database (test/e2e/support/cluster.ts). Relay events are published by
 * producer processes exactly as the worker publishes them.
 */
export class HeraldTarget implements Target {
  readonly name = 'herald' as const;
  readonly description = 'Herald: 2 gateways, orchestrator, worker, persistence (real processes)';
  readonly runsAgents = true;
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
    const cluster = await Cluster.start({ gateways: 2, env: HERALD_BENCH_ENV, nodeArgs });
    return new HeraldTarget(cluster, opts.producers);
  }

  get urls(): string[] {
    return this.cluster.gateways.map((g) => g.url);
  }

  processes(): NamedPid[] {
    return this.cluster.services.map((s) => ({ name: s.name, pid: s.process.pid ?? -1 }));
  }

  loadProcesses(): NamedPid[] {
    return this.producers.pids;
  }

  memoryProcess() {
    const gateway = this.cluster.gateways[0];
    return { process: { name: gateway.name, pid: gateway.process.pid ?? -1 }, url: gateway.url };
  }

  produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome> {
    return this.producers.produce(users, rate, durationMs, tag);
  }

  /** Rows in the Postgres event log (what persistence has written so far). */
  async storedEvents(): Promise<number> {
    if (!this.db) {
      this.db = new Client({ connectionString: this.cluster.databaseUrl });
      await this.db.connect();
    }
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*)::bigint AS n FROM events');
    return Number(rows[0].n);
  }

  async stop(): Promise<void> {
    await this.producers.stop();
    await this.db?.end().catch(() => undefined);
    await this.cluster.stop();
  }
}
