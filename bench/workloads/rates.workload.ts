import type { ClientFleet } from '../lib/client-fleet';
import { fmt, type LatencySummary } from '../lib/histogram';
import type { BenchOptions } from '../lib/options';
import { sleep } from '../lib/pacer';
import { CpuMeter, msPerUnitNetOfIdle } from '../lib/proc-stat';
import type { Target } from '../targets/target';
import { runsWindow } from './runs.workload';

export interface RatesWindow {
  rate: number;
  sent: number;
  completed: number;
  refused: Record<string, number>;
  otherTerminal: Record<string, number>;
  eventsPerRun: number;
  /** Time to the first event of the run (`orchestration_started`), and to its terminal event, ms. */
  firstEvent: LatencySummary;
  terminal: LatencySummary;
  relay: LatencySummary;
  seconds: number;
  /** CPU ms per completed run of each process of the system (services and infrastructure), gross. */
  cpuMsPerRun: Record<string, number>;
  /** The same less each process's idle over the window. */
  cpuMsPerRunNetOfIdle: Record<string, number>;
  /** Their sum: what one run costs the whole system. */
  totalCpuMsPerRun: number;
  /** The load generator's CPU ms per run (not counted in the total). */
  loadCpuMsPerRun: number;
}

export interface RatesResult {
  /** CPU ms per second of each process of the system with no traffic, measured first. */
  idleCpuMsPerSecond: Record<string, number>;
  windows: RatesWindow[];
}

const IDLE_MS = 5_000;

/**
 * The runs workload at fixed rates (issue 12): the same rates for every system, each a
 * window of `stepMs` measured until every run settled, with the CPU every process of the
 * system spends (its services and the nats-server, redis-server and Postgres processes it
 * needs) per completed run, net of what each spends idle.
 */
export async function runRates(target: Target, driver: ClientFleet, opts: BenchOptions, log: (line: string) => void): Promise<RatesResult> {
  const system = () => [...target.processes(), ...target.infraProcesses()];
  const idle = new CpuMeter(system).start();
  const idleStarted = Date.now();
  await sleep(IDLE_MS);
  const idleCpuMsPerSecond = Object.fromEntries(Object.entries(idle.stop()).map(([n, s]) => [n, (s * 1e6) / (Date.now() - idleStarted)]));
  log(
    `rates: idle CPU ms/s ${Object.entries(idleCpuMsPerSecond)
      .map(([n, v]) => `${n} ${fmt(v)}`)
      .join(', ')}; warm-up`,
  );
  await runsWindow(target, driver, opts.rates[0], { ...opts, stepMs: 1000 }, system);
  const windows: RatesWindow[] = [];
  const loadNames = new Set(driver.pids.map((p) => p.name));
  for (const rate of opts.rates) {
    const w = await runsWindow(target, driver, rate, opts, () => [...system(), ...driver.pids]);
    const systemCpu = Object.fromEntries(Object.entries(w.cpu).filter(([n]) => !loadNames.has(n)));
    const net = msPerUnitNetOfIdle(systemCpu, idleCpuMsPerSecond, w.seconds, w.completed);
    const window: RatesWindow = {
      rate,
      sent: w.sent,
      completed: w.completed,
      refused: w.refused,
      otherTerminal: w.otherTerminal,
      eventsPerRun: w.events / Math.max(1, w.completed),
      firstEvent: w.started,
      terminal: w.terminal,
      relay: w.relay,
      seconds: w.seconds,
      cpuMsPerRun: msPerUnitNetOfIdle(systemCpu, {}, w.seconds, w.completed),
      cpuMsPerRunNetOfIdle: net,
      totalCpuMsPerRun: Object.values(net).reduce((a, b) => a + b, 0),
      loadCpuMsPerRun:
        Object.entries(w.cpu)
          .filter(([n]) => loadNames.has(n))
          .reduce((a, [, s]) => a + s, 0) *
        (1000 / Math.max(1, w.completed)),
    };
    log(
      `  ${rate} runs/s: completed ${w.completed}/${w.sent}, first event p50 ${fmt(w.started.p50)} p99 ${fmt(w.started.p99)} ms; ` +
        `CPU ms/run net of idle ${fmt(window.totalCpuMsPerRun, 1)} (${Object.entries(net)
          .map(([n, v]) => `${n} ${fmt(v, 1)}`)
          .join(', ')})`,
    );
    windows.push(window);
  }
  return { idleCpuMsPerSecond, windows };
}
