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

export interface BenchUser {
  userId: string;
  token: string;
  url: string;
}

export interface RelayStats {
  received: number;
  relay: Array<[number, number]>;
}

export interface RunsStats {
  sent: number;
  accepted: number;
  refused: Record<string, number>;
  completed: number;
  otherTerminal: Record<string, number>;
  events: number;
  ack: Array<[number, number]>;
  started: Array<[number, number]>;
  terminal: Array<[number, number]>;
  relay: Array<[number, number]>;
}

interface RunRecord {
  sentAt?: number;
  ackAt?: number;
  startedAt?: number;
  endedAt?: number;
  terminal?: string;
  message?: boolean;
}

const QUESTIONS = ['What is JetStream?', 'How does resume work?', 'Hello!', 'What does the gateway do?', 'How are events stored?'];
const CONNECT_PARALLEL = 25;

const clients: HeraldClient[] = [];
let mode: 'idle' | 'relay' | 'runs' = 'idle';
let tag = '';
let relay = new Histogram();
let received = 0;
// Runs windows.
let runs = new Map<string, RunRecord>();
const earlier = new Set<string>();
let stats: Omit<RunsStats, 'ack' | 'started' | 'terminal' | 'relay' | 'completed' | 'otherTerminal'> = blankRunStats();
let inFlight: Promise<unknown>[] = [];

function blankRunStats() {
  return { sent: 0, accepted: 0, refused: {} as Record<string, number>, events: 0 };
}

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
  if (event.type === 'orchestration_started') run.startedAt ??= now;
  else if (event.type === 'message') run.message = true;
  else if (event.type === 'orchestration_completed' || event.type === 'run_cancelled' || event.type === 'error') {
    run.endedAt ??= now;
    run.terminal ??= event.type;
  }
}

async function connectAll(users: BenchUser[]): Promise<{ connected: number; failed: number; error?: string }> {
  let next = 0;
  let failed = 0;
  let error: string | undefined;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++];
      const client = new HeraldClient({ url: user.url, token: user.token, ackTimeoutMs: 30_000 });
      client.onEvent(onEvent);
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

function runsStats(): RunsStats {
  const ack = new Histogram();
  const started = new Histogram();
  const terminal = new Histogram();
  const otherTerminal: Record<string, number> = {};
  let completed = 0;
  for (const run of runs.values()) {
    if (run.sentAt === undefined) continue; // not (yet) acked: counted as refused or missing
    ack.record(run.ackAt! - run.sentAt);
    if (run.startedAt !== undefined) started.record(run.startedAt - run.sentAt);
    if (run.endedAt !== undefined) terminal.record(run.endedAt - run.sentAt);
    if (run.terminal === 'orchestration_completed' && run.message) completed++;
    else if (run.terminal) otherTerminal[run.terminal] = (otherTerminal[run.terminal] ?? 0) + 1;
  }
  return {
    ...stats,
    completed,
    otherTerminal,
    ack: ack.entries(),
    started: started.entries(),
    terminal: terminal.entries(),
    relay: relay.entries(),
  };
}

serveParent(
  {
    connect: ({ users }: { users: BenchUser[] }) => connectAll(users),
    disconnect: () => {
      for (const c of clients.splice(0)) c.close();
      return { connected: 0 };
    },
    relayWindow: (args: { tag: string }) => {
      mode = 'relay';
      tag = args.tag;
      relay = new Histogram();
      received = 0;
      return {};
    },
    relayStats: (): RelayStats => ({ received, relay: relay.entries() }),
    runsWindow: async (args: { rate: number; durationMs: number }) => {
      for (const id of runs.keys()) earlier.add(id);
      mode = 'runs';
      runs = new Map();
      relay = new Histogram();
      stats = blankRunStats();
      inFlight = [];
      if (clients.length === 0) throw new Error('no connected clients');
      await paceOpenLoop(args.rate, args.durationMs, send);
      return { sent: stats.sent };
    },
    runsProgress: () => {
      let ended = 0;
      for (const run of runs.values()) if (run.sentAt !== undefined && run.terminal) ended++;
      const refused = Object.values(stats.refused).reduce((a, b) => a + b, 0);
      return { sent: stats.sent, settled: ended + refused, events: stats.events };
    },
    runsStats: () => runsStats(),
    idle: () => {
      mode = 'idle';
      return {};
    },
  },
  () => {
    for (const c of clients.splice(0)) c.close();
  },
);
