import type { ClientFleet } from '../lib/client-fleet';
import { fmt, type LatencySummary, median, medianSummary } from '../lib/histogram';
import type { BenchOptions } from '../lib/options';
import { stepRates } from '../lib/options';
import { sleep, waitFor } from '../lib/pacer';
import { CpuMeter, type NamedPid } from '../lib/proc-stat';
import type { Target } from '../targets/target';
import { cpuLine } from './relay.workload';
import { type StepRecord, stepUp } from './step-search';

interface RunsWindow {
  pass: boolean;
  rate: number;
  sent: number;
  accepted: number;
  completed: number;
  refused: Record<string, number>;
  otherTerminal: Record<string, number>;
  events: number;
  runsPerSecond: number;
  ack: LatencySummary;
  started: LatencySummary;
  terminal: LatencySummary;
  relay: LatencySummary;
  cpu: Record<string, number>;
  /** How long the CPU was measured (sending and draining), in seconds. */
  seconds: number;
}

export interface RunsResult {
  users: number;
  steps: Array<Omit<StepRecord<RunsWindow>, 'attempts'> & { attempts: Array<Omit<RunsWindow, 'cpu'>> }>;
  maxRate: number;
  maxRunsPerSecond: number;
  half?: {
    rate: number;
    runsPerSecond: number;
    eventsPerRun: number;
    ack: LatencySummary;
    started: LatencySummary;
    terminal: LatencySummary;
    relay: LatencySummary;
    /** CPU milliseconds per completed run, per process. */
    cpuMsPerRun: Record<string, number>;
    /** The same, less what each process spends idle (measured before the workload) over the window. */
    cpuMsPerRunNetOfIdle: Record<string, number>;
  };
  /** CPU milliseconds per second each process spends with no traffic (timers, polls, heartbeats). */
  idleCpuMsPerSecond: Record<string, number>;
}

/** Runs still going this long after the last send make the step fail. */
const RUNS_DRAIN_MS = 10_000;
/** How long each process's idle CPU is measured before the workload. */
const IDLE_MS = 3_000;

/**
 * One window: `rate` runs/s for the step's duration, measured until every run has settled.
 * The CPU of the target's processes and the fleet's is measured, or of `measured` (asked
 * again at the end) when given.
 */
export async function runsWindow(
  target: Target,
  fleet: ClientFleet,
  rate: number,
  opts: BenchOptions,
  measured: () => NamedPid[] = () => [...target.processes(), ...fleet.pids],
): Promise<RunsWindow> {
  const cpu = new CpuMeter(measured).start();
  const startedAt = Date.now();
  await fleet.runsWindow(rate, opts.stepMs);
  await waitFor(
    async () => {
      const p = await fleet.runsProgress();
      return p.settled >= p.sent;
    },
    Math.max(opts.drainMs, RUNS_DRAIN_MS),
    50,
  );
  const spent = cpu.stop();
  const seconds = (Date.now() - startedAt) / 1000;
  const s = await fleet.runsStats();
  const started = s.started.summary();
  const relay = s.relay.summary();
  const refused = Object.values(s.refused).reduce((a, b) => a + b, 0);
  const window: RunsWindow = {
    pass: refused === 0 && s.completed === s.sent && started.p99 < opts.p99LimitMs && relay.p99 < opts.p99LimitMs,
    rate,
    sent: s.sent,
    accepted: s.accepted,
    completed: s.completed,
    refused: s.refused,
    otherTerminal: s.otherTerminal,
    events: s.events,
    runsPerSecond: s.completed / (opts.stepMs / 1000),
    ack: s.ack.summary(),
    started,
    terminal: s.terminal.summary(),
    relay,
    cpu: spent,
    seconds,
  };
  await fleet.idle();
  await sleep(window.pass ? 300 : 2_000);
  return window;
}

/** The runs workload: users send chat:send at a fixed rate; step up, then measure at half the best rate. */
export async function runRuns(target: Target, fleet: ClientFleet, opts: BenchOptions, log: (line: string) => void): Promise<RunsResult> {
  const idle = new CpuMeter(target.processes()).start();
  await sleep(IDLE_MS);
  const idleCpuMsPerSecond = Object.fromEntries(Object.entries(idle.stop()).map(([n, s]) => [n, (s * 1e6) / IDLE_MS]));
  log(
    `runs, ${fleet.size} users: idle CPU ms/s ${Object.entries(idleCpuMsPerSecond)
      .map(([n, v]) => `${n} ${fmt(v)}`)
      .join(', ')}; warm-up`,
  );
  await runsWindow(target, fleet, opts.runsSteps.start, { ...opts, stepMs: 1000 });
  const describe = (w: RunsWindow) =>
    `completed ${w.completed}/${w.sent} started p50 ${fmt(w.started.p50)} p99 ${fmt(w.started.p99)}, relay p99 ${fmt(w.relay.p99)} ms; ${cpuLine(w.cpu, opts.stepMs)}`;
  const search = await stepUp(
    stepRates(opts.runsSteps),
    (rate) => runsWindow(target, fleet, rate, opts),
    opts.confirmations,
    log,
    describe,
  );
  const result: RunsResult = {
    users: fleet.size,
    steps: search.steps.map((s) => ({ ...s, attempts: s.attempts.map(({ cpu: _cpu, ...a }) => a) })),
    maxRate: search.best?.rate ?? 0,
    maxRunsPerSecond: search.best?.result.runsPerSecond ?? 0,
    idleCpuMsPerSecond,
  };
  if (!search.best) return result;
  const rate = search.best.rate / 2;
  const halves: RunsWindow[] = [];
  for (let i = 0; i < opts.repeats; i++) {
    const w = await runsWindow(target, fleet, rate, opts);
    log(`  half rate ${rate}/s: ${describe(w)}`);
    halves.push(w);
  }
  const names = target.processes().map((p) => p.name);
  result.half = {
    rate,
    runsPerSecond: median(halves.map((w) => w.runsPerSecond)),
    eventsPerRun: median(halves.map((w) => w.events / Math.max(1, w.completed))),
    ack: medianSummary(halves.map((w) => w.ack)),
    started: medianSummary(halves.map((w) => w.started)),
    terminal: medianSummary(halves.map((w) => w.terminal)),
    relay: medianSummary(halves.map((w) => w.relay)),
    cpuMsPerRun: Object.fromEntries(names.map((n) => [n, median(halves.map((w) => (w.cpu[n] * 1000) / Math.max(1, w.completed)))])),
    cpuMsPerRunNetOfIdle: Object.fromEntries(
      names.map((n) => [n, median(halves.map((w) => (w.cpu[n] * 1000 - idleCpuMsPerSecond[n] * w.seconds) / Math.max(1, w.completed)))]),
    ),
  };
  return result;
}
