import { signDevToken } from '@herald/auth';
import { CLUSTER_JWT_SECRET } from '../../test/support/cluster';
import type { BenchUser, RelayStats, RunsStats } from '../agents/client-host';
import { benchScript } from './bench-paths';
import { Histogram } from './histogram';
import { BenchChild } from './ipc';

type LatencyField = 'ack' | 'started' | 'terminal' | 'relay';

/** A client host's RunsStats, summed over the hosts, with each latency sample merged into a histogram. */
export type MergedRunsStats = Omit<RunsStats, LatencyField> & Record<LatencyField, Histogram>;

const TOKEN_TTL_SECONDS = 4 * 3600;

/** The users' ids of a bench population. */
export function benchUsers(count: number, from = 0, prefix = 'bench-user'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);
}

/**
 * The load generator's clients, spread over a few client-host processes (each user one
 * HeraldClient, round-robin over the target's URLs), with their measurements merged. The
 * LangGraph peer's fleet runs bench/agents/langgraph-client.js instead (runs only, no
 * connected users), which answers the same runs calls.
 */
export class ClientFleet {
  private connected = 0;

  private constructor(private readonly hosts: BenchChild[]) {}

  static async start(hosts: number, script = 'bench/agents/client-host.js', name = 'client-host'): Promise<ClientFleet> {
    const children = Array.from({ length: hosts }, (_, i) => new BenchChild(`${name}-${i}`, benchScript(script)));
    return new ClientFleet(children);
  }

  /** Sends `init` to every host (the LangGraph fleet: the server's URL). */
  async init(args: unknown): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.call('init', args)));
  }

  get pids() {
    return this.hosts.map((h) => ({ name: h.name, pid: h.pid }));
  }

  get size(): number {
    return this.connected;
  }

  /**
   * Connects these users (adding to those already connected); throws if any is refused.
   * `autoResume`: the clients resume from their last event id when they reconnect (Herald).
   */
  async connect(userIds: string[], urls: string[], autoResume: boolean): Promise<void> {
    const users: BenchUser[][] = this.hosts.map(() => []);
    for (let i = 0; i < userIds.length; i++) {
      const token = await signDevToken(userIds[i], CLUSTER_JWT_SECRET, { ttlSeconds: TOKEN_TTL_SECONDS });
      const n = this.connected + i;
      users[n % this.hosts.length].push({ userId: userIds[i], token, url: urls[n % urls.length] });
    }
    const timeoutMs = 60_000 + userIds.length * 20;
    const results = await Promise.all(
      this.hosts.map((h, i) =>
        h.call<{ connected: number; failed: number; error?: string }>('connect', { users: users[i], autoResume }, timeoutMs),
      ),
    );
    const failed = results.reduce((a, r) => a + r.failed, 0);
    this.connected = results.reduce((a, r) => a + r.connected, 0);
    if (failed > 0) throw new Error(`${failed} of ${userIds.length} clients could not connect: ${results.find((r) => r.error)?.error}`);
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.call('disconnect')));
    this.connected = 0;
  }

  async relayWindow(tag: string): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.call('relayWindow', { tag })));
  }

  async relayStats(): Promise<{ received: number; dropped: number; notOnline: number; relay: Histogram }> {
    const all = await Promise.all(this.hosts.map((h) => h.call<RelayStats>('relayStats')));
    return {
      received: all.reduce((a, s) => a + s.received, 0),
      dropped: all.reduce((a, s) => a + s.dropped, 0),
      notOnline: all.reduce((a, s) => a + s.notOnline, 0),
      relay: Histogram.merge(all.map((s) => Histogram.from(s.relay))),
    };
  }

  /** Sends `rate` runs/s for `durationMs` (split over the hosts); resolves when all are sent. */
  async runsWindow(rate: number, durationMs: number): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.call('runsWindow', { rate: rate / this.hosts.length, durationMs }, durationMs + 60_000)));
  }

  async runsProgress(): Promise<{ sent: number; settled: number }> {
    const all = await Promise.all(this.hosts.map((h) => h.call<{ sent: number; settled: number }>('runsProgress')));
    return { sent: all.reduce((a, p) => a + p.sent, 0), settled: all.reduce((a, p) => a + p.settled, 0) };
  }

  async runsStats(): Promise<MergedRunsStats> {
    const all = await Promise.all(this.hosts.map((h) => h.call<RunsStats>('runsStats')));
    const sum = (key: 'sent' | 'accepted' | 'completed' | 'events') => all.reduce((a, s) => a + s[key], 0);
    const counts = (key: 'refused' | 'otherTerminal') => {
      const out: Record<string, number> = {};
      for (const s of all) for (const [k, v] of Object.entries(s[key])) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const hist = (key: 'ack' | 'started' | 'terminal' | 'relay') => Histogram.merge(all.map((s) => Histogram.from(s[key])));
    return {
      sent: sum('sent'),
      accepted: sum('accepted'),
      completed: sum('completed'),
      events: sum('events'),
      refused: counts('refused'),
      otherTerminal: counts('otherTerminal'),
      ack: hist('ack'),
      started: hist('started'),
      terminal: hist('terminal'),
      relay: hist('relay'),
    };
  }

  async idle(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.call('idle')));
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.stop()));
  }
}
