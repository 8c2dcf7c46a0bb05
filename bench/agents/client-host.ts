/**
 * A load generator process: hosts a share of the bench's connected users, each a
 * HeraldClient (libs/client) on its own socket, and measures what they receive. The bench
 * runs a few of these so that the clients are not one process's bottleneck; it merges
 * their histograms.
 *
 *  - relay windows: counts the window's events (tagged deltas) and their relay latency
 *    (event `ts` to receipt);
 *  - runs windows: sends `chat:send` at a fixed rate (open loop) over its clients and
 *    measures the ack, the time to `orchestration_started` and to the terminal event, and
 *    the relay latency of every event of those runs.
 */
import { HeraldClient } from '@herald/client';
import type { AgentEvent } from '@herald/contracts';
import { Histogram } from '../lib/histogram';
import { serveParent } from '../lib/ipc';
import { paceOpenLoop } from '../lib/pacer';
import { tagOf } from '../lib/relay-event';
import {
  blankRunsCounters,
  QUESTIONS,
  recordRunEvent,
  type RunRecord,
  type RunsCounters,
  type RunsStats,
  settledRuns,
  summarizeRuns,
} from '../lib/run-records';

export type { RunsStats } from '../lib/run-records';

export interface BenchUser {
  userId: string;
  token: string;
  url: string;
}

export interface RelayStats {
  received: number;
  dropped: number;
  /** Clients not online now (reconnecting or resuming). */
  notOnline: number;
  relay: Array<[number, number]>;
}

const CONNECT_PARALLEL = 25;

const clients: HeraldClient[] = [];
let mode: 'idle' | 'relay' | 'runs' = 'idle';
let tag = '';
let relay = new Histogram();
let received = 0;
/** Clients that lost their connection during the relay window (the crash case). */
let dropped = 0;
// Runs windows.
let runs = new Map<string, RunRecord>();
const earlier = new Set<string>();
let stats: RunsCounters = blankRunsCounters();
let inFlight: Promise<unknown>[] = [];

function onEvent(event: AgentEvent): void {
  if (mode === 'relay') {
    if (event.type !== 'message_delta' || tagOf(event.data.delta) !== tag) return;
    received++;
    relay.record(Date.now() - Date.parse(event.ts));
    return;
  }
  if (mode !== 'runs' || earlier.has(event.runId)) return;
  const now = performance.now();
  stats.events++;
  relay.record(Date.now() - Date.parse(event.ts));
  const run = runs.get(event.runId) ?? {};
  runs.set(event.runId, run);
  recordRunEvent(run, event.type, now);
}

async function connectAll(users: BenchUser[], autoResume: boolean): Promise<{ connected: number; failed: number; error?: string }> {
  let next = 0;
  let failed = 0;
  let error: string | undefined;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++];
      const client = new HeraldClient({ url: user.url, token: user.token, ackTimeoutMs: 30_000, autoResume });
      client.onEvent(onEvent);
      client.onStatus((status) => {
        if (mode === 'relay' && status.state === 'offline') dropped++;
      });
      try {
        await client.connect();
        clients.push(client);
      } catch (err) {
        failed++;
        error = String((err as Error).message ?? err);
        client.close();
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECT_PARALLEL }, worker));
  return { connected: clients.length, failed, error };
}

function send(i: number): void {
  const client = clients[i % clients.length];
  const sentAt = performance.now();
  stats.sent++;
  inFlight.push(
    client.send(QUESTIONS[i % QUESTIONS.length], { stream: true }).then(
      (ack) => {
        stats.accepted++;
        const run = runs.get(ack.runId) ?? {};
        runs.set(ack.runId, run);
        run.sentAt = sentAt;
        run.ackAt = performance.now();
      },
      (err: { code?: string }) => {
        const code = err.code ?? 'ERROR';
        stats.refused[code] = (stats.refused[code] ?? 0) + 1;
      },
    ),
  );
}

serveParent(
  {
    connect: ({ users, autoResume }: { users: BenchUser[]; autoResume: boolean }) => connectAll(users, autoResume),
    disconnect: () => {
      for (const c of clients.splice(0)) c.close();
      return { connected: 0 };
    },
    relayWindow: (args: { tag: string }) => {
      mode = 'relay';
      tag = args.tag;
      relay = new Histogram();
      received = 0;
      dropped = 0;
      return {};
    },
    relayStats: (): RelayStats => ({
      received,
      dropped,
      notOnline: clients.filter((c) => c.status.state !== 'online').length,
      relay: relay.entries(),
    }),
    runsWindow: async (args: { rate: number; durationMs: number }) => {
      for (const id of runs.keys()) earlier.add(id);
      mode = 'runs';
      runs = new Map();
      relay = new Histogram();
      stats = blankRunsCounters();
      inFlight = [];
      if (clients.length === 0) throw new Error('no connected clients');
      await paceOpenLoop(args.rate, args.durationMs, send);
      return { sent: stats.sent };
    },
    runsProgress: () => ({ sent: stats.sent, settled: settledRuns(runs.values(), stats), events: stats.events }),
    runsStats: (): RunsStats => summarizeRuns(runs.values(), stats, relay),
    idle: () => {
      mode = 'idle';
      return {};
    },
  },
  () => {
    for (const c of clients.splice(0)) c.close();
  },
);
