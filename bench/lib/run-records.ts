import { Histogram } from './histogram';

/** What the bench's users ask, in turn (the same for every system). */
export const QUESTIONS = ['What is JetStream?', 'How does resume work?', 'Hello!', 'What does the gateway do?', 'How are events stored?'];

/** What a client host measures of one run (performance.now() times). */
export interface RunRecord {
  sentAt?: number;
  ackAt?: number;
  startedAt?: number;
  endedAt?: number;
  terminal?: string;
  message?: boolean;
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

/** A runs window's counters, before the records are summed up. */
export type RunsCounters = Pick<RunsStats, 'sent' | 'accepted' | 'refused' | 'events'>;

export function blankRunsCounters(): RunsCounters {
  return { sent: 0, accepted: 0, refused: {}, events: 0 };
}

/** Records one event of a run: `orchestration_started` starts it, a terminal event ends it. */
export function recordRunEvent(run: RunRecord, type: string, now: number): void {
  if (type === 'orchestration_started') run.startedAt ??= now;
  else if (type === 'message') run.message = true;
  else if (type === 'orchestration_completed' || type === 'run_cancelled' || type === 'error') {
    run.endedAt ??= now;
    run.terminal ??= type;
  }
}

/** The window's figures: a run counts as completed when it ended with `orchestration_completed` after its `message`. */
export function summarizeRuns(runs: Iterable<RunRecord>, counters: RunsCounters, relay: Histogram): RunsStats {
  const ack = new Histogram();
  const started = new Histogram();
  const terminal = new Histogram();
  const otherTerminal: Record<string, number> = {};
  let completed = 0;
  for (const run of runs) {
    if (run.sentAt === undefined) continue; // not (yet) acked: counted as refused or missing
    if (run.ackAt !== undefined) ack.record(run.ackAt - run.sentAt);
    if (run.startedAt !== undefined) started.record(run.startedAt - run.sentAt);
    if (run.endedAt !== undefined) terminal.record(run.endedAt - run.sentAt);
    if (run.terminal === 'orchestration_completed' && run.message) completed++;
    else if (run.terminal) otherTerminal[run.terminal] = (otherTerminal[run.terminal] ?? 0) + 1;
  }
  return {
    ...counters,
    completed,
    otherTerminal,
    ack: ack.entries(),
    started: started.entries(),
    terminal: terminal.entries(),
    relay: relay.entries(),
  };
}

/** Runs sent in the window that have ended (a terminal event) or were refused. */
export function settledRuns(runs: Iterable<RunRecord>, counters: RunsCounters): number {
  let ended = 0;
  for (const run of runs) if (run.sentAt !== undefined && run.terminal) ended++;
  return ended + Object.values(counters.refused).reduce((a, b) => a + b, 0);
}
