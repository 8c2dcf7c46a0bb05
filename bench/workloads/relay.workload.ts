import type { ClientFleet } from '../lib/client-fleet';
import { fmt, type LatencySummary, median, medianSummary } from '../lib/histogram';
import type { BenchOptions } from '../lib/options';
import { stepRates } from '../lib/options';
import { sleep, waitFor } from '../lib/pacer';
import { CpuMeter, msPerUnitNetOfIdle } from '../lib/proc-stat';
import { HeraldTarget } from '../targets/herald.target';
import type { Target } from '../targets/target';
import { type StepRecord, stepUp } from './step-search';

interface RelayWindow {
  pass: boolean;
  rate: number;
  sent: number;
  /** Taken in by the system (JetStream-acknowledged for Herald). */
  expected: number;
  received: number;
  /** Delivered events per second over the sending time. */
  deliveredPerSecond: number;
  relay: LatencySummary;
  /** CPU seconds per process during the window (the infrastructure's included). */
  cpu: Record<string, number>;
  /** How long the CPU was measured (sending and draining), in seconds. */
  seconds: number;
  persistence?: PersistenceSample;
}

interface PersistenceSample {
  /** Rows written to the event log while the events were sent, per second. */
  rowsPerSecondDuringSend: number;
  /** Rows of the window stored per second, from its first send to its last row stored. */
  rowsPerSecondToCatchUp: number;
  /** Seconds after the last send until every row was stored (NaN: not within the bound). */
  catchUpSeconds: number;
}

/** Persistence draining a backlog into Postgres while the relay runs at half rate. */
export interface BacklogDrain {
  backlog: number;
  /** Rows written per second, from the first row after persistence started to the last. */
  rowsPerSecond: number;
  seconds: number;
  /** The relay's windows meanwhile, at the half rate. */
  relayWindows: number;
  relayPassed: boolean;
  relay: LatencySummary;
}

export interface RelayResult {
  users: number;
  steps: StepRecord<RelayWindow>[];
  maxRate: number;
  maxDeliveredPerSecond: number;
  /** Herald: the event log's write rate during the highest passing step. */
  persistenceAtMax?: PersistenceSample;
  half?: {
    rate: number;
    relay: LatencySummary;
    deliveredPerSecond: number;
    cpuMicrosPerEvent: Record<string, number>;
    /**
     * The infrastructure the system needs (nats-server, redis-server, Postgres: shared with
     * the rest of the machine), µs per delivered event net of its idle (measured before).
     */
    infraMicrosPerEventNetOfIdle?: Record<string, number>;
    persistence?: PersistenceSample;
  };
  /** Herald: the event log's write rate with a backlog to drain, while the relay runs at this population's half rate. */
  backlogDrain?: BacklogDrain;
}

const CATCH_UP_BOUND_MS = 20_000;
/** How long the infrastructure's idle CPU is measured before a population's relay. */
const INFRA_IDLE_MS = 3_000;
let windows = 0;

/** One measurement window: `rate` events/s for the step's duration, all to `users`. */
async function relayWindow(
  target: Target,
  fleet: ClientFleet,
  users: string[],
  rate: number,
  opts: BenchOptions,
  persistence: 'sample' | 'catch-up' | 'none',
): Promise<RelayWindow> {
  const tag = `w${++windows}`;
  await fleet.relayWindow(tag);
  const herald = target instanceof HeraldTarget && persistence !== 'none' ? target : undefined;
  const storedBefore = (await herald?.storedEvents()) ?? 0;
  const cpu = new CpuMeter(() => [...target.processes(), ...target.infraProcesses(), ...target.loadProcesses(), ...fleet.pids]).start();
  const started = Date.now();
  const outcome = await target.produce(users, rate, opts.stepMs, tag);
  const sentAt = Date.now();
  const storedAtSend = (await herald?.storedEvents()) ?? 0;
  await waitFor(async () => (await fleet.relayStats()).received >= outcome.delivered, opts.drainMs, 50);
  const spent = cpu.stop();
  const stats = await fleet.relayStats();
  const relay = stats.relay.summary();
  const window: RelayWindow = {
    pass: outcome.failed === 0 && stats.received >= outcome.delivered && relay.p99 < opts.p99LimitMs,
    rate,
    sent: outcome.sent,
    expected: outcome.delivered,
    received: stats.received,
    deliveredPerSecond: stats.received / (opts.stepMs / 1000),
    relay,
    cpu: spent,
    seconds: (Date.now() - started) / 1000,
  };
  if (herald) {
    const sendSeconds = (sentAt - started) / 1000;
    const sample: PersistenceSample = {
      rowsPerSecondDuringSend: (storedAtSend - storedBefore) / sendSeconds,
      rowsPerSecondToCatchUp: NaN,
      catchUpSeconds: NaN,
    };
    if (persistence === 'catch-up') {
      const done = await waitFor(async () => (await herald.storedEvents()) - storedBefore >= outcome.delivered, CATCH_UP_BOUND_MS, 100);
      if (done) {
        sample.catchUpSeconds = Math.max(0, (Date.now() - sentAt) / 1000);
        sample.rowsPerSecondToCatchUp = outcome.delivered / ((Date.now() - started) / 1000);
      }
    }
    window.persistence = sample;
  }
  // Let what a failed step left in flight clear before the next one.
  await sleep(window.pass ? 300 : 2_000);
  return window;
}

/** The relay workload for one target and one population: step up, then measure at half the best rate. */
export async function runRelay(
  target: Target,
  fleet: ClientFleet,
  users: string[],
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<RelayResult> {
  const infra = () => target.infraProcesses();
  const idle = new CpuMeter(infra).start();
  const idleStarted = Date.now();
  await sleep(INFRA_IDLE_MS);
  const infraIdleMsPerSecond = Object.fromEntries(Object.entries(idle.stop()).map(([n, s]) => [n, (s * 1e6) / (Date.now() - idleStarted)]));
  log(`relay, ${users.length} users: warm-up`);
  await relayWindow(target, fleet, users, opts.relaySteps.start / 2, { ...opts, stepMs: 1000 }, 'none');
  const describe = (w: RelayWindow) =>
    `received ${w.received}/${w.expected} p50 ${fmt(w.relay.p50)} p99 ${fmt(w.relay.p99)} max ${fmt(w.relay.max)} ms; ${cpuLine(w.cpu, opts.stepMs)}`;
  const search = await stepUp(
    stepRates(opts.relaySteps),
    (rate) => relayWindow(target, fleet, users, rate, opts, 'sample'),
    opts.confirmations,
    log,
    describe,
  );
  const result: RelayResult = {
    users: users.length,
    steps: search.steps,
    maxRate: search.best?.rate ?? 0,
    maxDeliveredPerSecond: search.best?.result.deliveredPerSecond ?? 0,
    persistenceAtMax: search.best?.result.persistence,
  };
  if (!search.best) return result;
  const rate = Math.round(search.best.rate / 2);
  const halves: RelayWindow[] = [];
  for (let i = 0; i < opts.repeats; i++) {
    const w = await relayWindow(target, fleet, users, rate, opts, 'catch-up');
    log(`  half rate ${rate}/s: ${describe(w)}`);
    halves.push(w);
  }
  const names = target.processes().map((p) => p.name);
  result.half = {
    rate,
    relay: medianSummary(halves.map((w) => w.relay)),
    deliveredPerSecond: median(halves.map((w) => w.deliveredPerSecond)),
    cpuMicrosPerEvent: Object.fromEntries(names.map((n) => [n, median(halves.map((w) => (w.cpu[n] * 1e6) / Math.max(1, w.received)))])),
    ...(Object.keys(infraIdleMsPerSecond).length
      ? {
          infraMicrosPerEventNetOfIdle: Object.fromEntries(
            Object.keys(infraIdleMsPerSecond).map((n) => [
              n,
              median(
                halves.map((w) => msPerUnitNetOfIdle({ [n]: w.cpu[n] ?? NaN }, infraIdleMsPerSecond, w.seconds, w.received)[n] * 1000),
              ),
            ]),
          ),
        }
      : {}),
    ...(halves[0].persistence
      ? {
          persistence: {
            rowsPerSecondDuringSend: median(halves.map((w) => w.persistence!.rowsPerSecondDuringSend)),
            rowsPerSecondToCatchUp: median(halves.map((w) => w.persistence!.rowsPerSecondToCatchUp)),
            catchUpSeconds: median(halves.map((w) => w.persistence!.catchUpSeconds)),
          },
        }
      : {}),
  };
  return result;
}

const DRAIN_BOUND_MS = 60_000;

/**
 * Persistence's sustained write rate: it is stopped, a backlog of events goes into the
 * stream, and it is started again while relay windows run at the half rate. The backlog
 * precedes the relay's events in the stream, so the rate is the backlog's rows over the
 * time from its first row stored to its last.
 */
export async function drainBacklog(
  target: HeraldTarget,
  fleet: ClientFleet,
  users: string[],
  rate: number,
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<BacklogDrain> {
  await target.stopPersistence();
  log(`  backlog: publishing ${opts.backlog} events with persistence stopped…`);
  const { firstId, lastId } = await target.publishBacklog(opts.backlog);
  await target.startPersistence();
  const windows: RelayWindow[] = [];
  let drained = false;
  const relay = (async () => {
    do windows.push(await relayWindow(target, fleet, users, rate, opts, 'none'));
    while (!drained);
  })();
  let first = 0;
  let stored = 0;
  const deadline = Date.now() + DRAIN_BOUND_MS;
  // Counting the stored rows costs Postgres ~20 ms at 150k rows, the CPU the drain and the
  // relay compete for: once rows flow, poll only as often as a quarter of the time left at
  // the rate so far (the end is still seen within a few ms).
  while (stored < opts.backlog && Date.now() < deadline) {
    const left = first && stored > 0 ? ((opts.backlog - stored) * (Date.now() - first)) / stored : 0;
    await sleep(Math.max(20, Math.min(1000, left / 4)));
    stored = await target.storedBetween(firstId, lastId);
    if (stored > 0 && !first) first = Date.now();
  }
  const seconds = (Date.now() - first) / 1000;
  drained = true;
  await relay;
  const drain: BacklogDrain = {
    backlog: opts.backlog,
    rowsPerSecond: stored >= opts.backlog && seconds > 0 ? stored / seconds : NaN,
    seconds,
    relayWindows: windows.length,
    relayPassed: windows.every((w) => w.pass),
    relay: medianSummary(windows.map((w) => w.relay)),
  };
  log(
    `  backlog: ${stored}/${opts.backlog} rows in ${fmt(seconds, 1)} s = ${fmt(drain.rowsPerSecond, 0)} rows/s; relay at ${rate}/s meanwhile: ${windows.length} windows, p99 ${fmt(drain.relay.p99)} ms, ${drain.relayPassed ? 'passed' : 'FAILED'}`,
  );
  return drain;
}

/** CPU use of each process during a window, as a share of one core. */
export function cpuLine(cpu: Record<string, number>, stepMs: number): string {
  return Object.entries(cpu)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${Math.round((s * 100_000) / stepMs)}%`)
    .join(' ');
}
