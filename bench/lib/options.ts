import type { TargetName } from '../targets/target';

type WorkloadName = 'memory' | 'relay' | 'runs';

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
  /** Herald's services write V8 CPU profiles (node --cpu-prof) to test-output/bench-profiles. */
  profile: boolean;
}

const USAGE = `npm run bench -- [--quick] [--no-record] [--targets herald,direct,bare] [--workloads memory,relay,runs]
  [--step-ms 3000] [--repeats 3] [--relay-users 200,1000] [--idle 5000] [--client-hosts 2] [--producers 2] [--backlog 150000] [--profile]`;

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
  if (argv.includes('--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    quick,
    record: !argv.includes('--no-record'),
    targets: list('targets', ['direct', 'bare', 'herald'] as const, ['direct', 'bare', 'herald']),
    workloads: list('workloads', ['memory', 'relay', 'runs'] as const, ['memory', 'relay', 'runs']),
    stepMs: num('step-ms', quick ? 1500 : 3000),
    drainMs: num('drain-ms', 3000),
    repeats: num('repeats', quick ? 1 : 3),
    confirmations: quick ? 0 : 2,
    relayUsers: (value('relay-users') ?? (quick ? '200' : '200,1000')).split(',').map(Number),
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
