/**
 * The LangGraph peer's load generator process: sends runs at a fixed rate (open loop) with
 * the LangGraph SDK (`runs.stream` of the assistant `herald` on a new thread, created by
 * the same request, as Herald's `chat:send` starts a new conversation; the `custom` stream
 * mode; resumable: only a thread's run streams carry event ids), and measures them as client-host.ts measures Herald's: the ack
 * (the stream's `metadata` part: the run was created), the time to the first event
 * (`orchestration_started`), to the terminal event, and each event's relay latency. A
 * stream that breaks is resumed with `runs.joinStream` from the last event id it saw.
 */
import { randomUUID } from 'node:crypto';
import { Histogram } from '../lib/histogram';
import { serveParent } from '../lib/ipc';
import { paceOpenLoop } from '../lib/pacer';
import { type LangGraphSdkClient, type LangGraphSdkModule, type LangGraphStreamPart, loadPeer } from '../lib/peers';
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

const ASSISTANT = 'herald';

let client: LangGraphSdkClient | undefined;
let runs: RunRecord[] = [];
let stats: RunsCounters = blankRunsCounters();
let relay = new Histogram();
let currentWindow = 0;
let resumed = 0;

async function runOne(i: number, inWindow: number): Promise<void> {
  const run: RunRecord = { sentAt: performance.now() };
  runs.push(run);
  stats.sent++;
  const threadId = randomUUID();
  let ids: { runId?: string; lastEventId?: string } = {};
  const consume = async (stream: AsyncIterable<LangGraphStreamPart>) => {
    for await (const part of stream) {
      if (inWindow !== currentWindow) return; // a later window: this run is no longer measured
      if (part.id) ids.lastEventId = part.id;
      if (part.event === 'metadata') {
        ids = { ...ids, runId: (part.data as { run_id?: string }).run_id ?? ids.runId };
        if (run.ackAt === undefined) {
          run.ackAt = performance.now();
          stats.accepted++;
        }
      } else if (part.event === 'custom') {
        const event = part.data as { type: string; ts: string };
        stats.events++;
        relay.record(Date.now() - Date.parse(event.ts));
        recordRunEvent(run, event.type, performance.now());
      } else if (part.event === 'error') {
        run.terminal ??= 'error';
        run.endedAt ??= performance.now();
      }
    }
  };
  try {
    await consume(
      client!.runs.stream(threadId, ASSISTANT, {
        input: { question: QUESTIONS[i % QUESTIONS.length], userId: `bench-user-${i % 200}` },
        streamMode: ['custom'],
        streamResumable: true,
        onDisconnect: 'continue',
        ifNotExists: 'create',
      }),
    );
    if (!run.terminal && ids.runId) throw new Error('stream ended before the run');
  } catch (err) {
    if (run.ackAt === undefined) {
      const code = (err as { status?: number }).status ? `HTTP_${(err as { status: number }).status}` : 'ERROR';
      stats.refused[code] = (stats.refused[code] ?? 0) + 1;
      return;
    }
    if (ids.runId && !run.terminal) {
      resumed++;
      await consume(client!.runs.joinStream(threadId, ids.runId, { lastEventId: ids.lastEventId, streamMode: ['custom'] })).catch(
        () => undefined,
      );
    }
  }
  if (run.ackAt !== undefined && !run.terminal && inWindow === currentWindow) {
    run.terminal = 'stream_ended';
    run.endedAt = performance.now();
  }
}

serveParent({
  init: ({ url }: { url: string }) => {
    const { Client } = loadPeer<LangGraphSdkModule>('@langchain/langgraph-sdk');
    client = new Client({ apiUrl: url, timeoutMs: 60_000 });
    return {};
  },
  runsWindow: async (args: { rate: number; durationMs: number }) => {
    if (!client) throw new Error('not initialised');
    const current = ++currentWindow;
    runs = [];
    stats = blankRunsCounters();
    relay = new Histogram();
    await paceOpenLoop(args.rate, args.durationMs, (i) => void runOne(i, current));
    return { sent: stats.sent };
  },
  runsProgress: () => ({ sent: stats.sent, settled: settledRuns(runs, stats), events: stats.events, resumed }),
  runsStats: (): RunsStats => summarizeRuns(runs, stats, relay),
  idle: () => ({}),
});
