import type { TargetName } from '../targets/target';

type WorkloadName = 'memory' | 'relay' | 'runs' | 'rates' | 'crash';

export interface BenchOptions {
  quick: boolean;
  /** Append to RESULTS.md and bench/results (off with --no-record, for development). */
  record: boolean;
  targets: TargetName[];
  workloads: WorkloadName[];
  /** Sending time of one step (ms). */
  stepMs: number;
  /** How long a step waits for stragglers after the last send (ms). */
  drainMs: number;
  /** Measurements at half the highest passing rate (their median is reported). */
  repeats: number;
  /** A failed step is tried this many more times; it passes if most attempts pass. */
  confirmations: number;
  relayUsers: number[];
  runsUsers: number;
  idleConnections: number;
  relaySteps: { start: number; factor: number; max: number };
  runsSteps: { start: number; factor: number; max: number };
  /** A step passes when every event arrives and the p99 is under this (ms). */
  p99LimitMs: number;
  clientHosts: number;
  producers: number;
  /** Events of the backlog persistence drains while the relay runs (Herald; 0: skip). */
  backlog: number;
  /** The peers' relay populations (default: the first of relayUsers). */
  peerRelayUsers: number[];
  /** The fixed rates (runs/s) of the rates workload, the same for every system. */
  rates: number[];
  /** The crash case: events/s and how long they flow (one server is SIGKILLed 40 % of the way in). */
  crashRate: number;
  crashMs: number;
  /** Herald's services write V8 CPU profiles (node --cpu-prof) to test-output/bench-profiles. */
  profile: boolean;
}

const TARGETS = ['direct', 'bare', 'herald', 'socketio', 'langgraph'] as const;
const WORKLOADS = ['memory', 'relay', 'runs', 'rates', 'crash'] as const;

const USAGE = `npm run bench -- [--quick] [--no-record] [--targets ${TARGETS.join(',')}] [--workloads ${WORKLOADS.join(',')}]
  [--step-ms 3000] [--repeats 3] [--relay-users 200,1000] [--peer-relay-users 200] [--idle 5000] [--client-hosts 2] [--producers 2]
  [--backlog 150000] [--rates 10,20,40] [--crash-rate 2000] [--crash-ms 10000] [--profile]

targets: direct (1) and bare (2), Herald's baselines; herald; socketio (4) and langgraph (3), the peers of
issue 12 (their packages are in bench/peers, which npm run bench installs on first use).
workloads: memory (herald, direct, bare), relay (all but langgraph), runs (herald, direct: step search),
rates (herald, langgraph: fixed rates, CPU of every process per run), crash (herald, socketio: SIGKILL one of two servers).`;

/** Parses the command line; `--quick` is a short run for development. */
export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, def: number): number => {
    const v = value(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number\n${USAGE}`);
    return n;
  };
  const list = <T extends string>(name: string, allowed: readonly T[], def: T[]): T[] => {
    const v = value(name);
    if (v === undefined) return def;
    const items = v.split(',').map((s) => s.trim()) as T[];
    const bad = items.find((s) => !allowed.includes(s));
    if (bad) throw new Error(`--${name}: unknown "${bad}"\n${USAGE}`);
    return items;
  };
  const numbers = (name: string, def: string): number[] => {
    const items = (value(name) ?? def).split(',').map(Number);
    if (items.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`--${name} must be positive numbers, comma-separated\n${USAGE}`);
    return items;
  };
  if (argv.includes('--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const relayUsers = numbers('relay-users', quick ? '200' : '200,1000');
  return {
    quick,
    record: !argv.includes('--no-record'),
    targets: list('targets', TARGETS, [...TARGETS]),
    workloads: list('workloads', WORKLOADS, [...WORKLOADS]),
    stepMs: num('step-ms', quick ? 1500 : 3000),
    drainMs: num('drain-ms', 3000),
    repeats: num('repeats', quick ? 1 : 3),
    confirmations: quick ? 0 : 2,
    relayUsers,
    peerRelayUsers: numbers('peer-relay-users', String(Math.min(...relayUsers))),
    rates: numbers('rates', quick ? '10,20' : '10,20,40'),
    crashRate: num('crash-rate', 2000),
    crashMs: num('crash-ms', quick ? 6000 : 10_000),
    runsUsers: num('runs-users', 200),
    idleConnections: num('idle', quick ? 1000 : 5000),
    relaySteps: { start: num('relay-start', 1000), factor: quick ? 2 : 1.5, max: 400_000 },
    runsSteps: { start: num('runs-start', 5), factor: quick ? 2 : 1.5, max: 5_000 },
    p99LimitMs: 50,
    clientHosts: num('client-hosts', 2),
    producers: num('producers', 2),
    profile: argv.includes('--profile'),
    backlog: value('backlog') === '0' ? 0 : num('backlog', quick ? 40_000 : 150_000),
  };
}

/** The rates of a step search: start, start × factor, … up to max. */
export function stepRates({ start, factor, max }: { start: number; factor: number; max: number }): number[] {
  const rates: number[] = [];
  for (let r = start; r <= max; r *= factor) rates.push(Math.round(r));
  return rates;
}
