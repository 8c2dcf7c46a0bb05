import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** The command name and the CPU seconds (user + system) of a /proc/<pid>/stat line. */
export function parseStat(stat: string): { comm: string; cpuSeconds: number } {
  // The command name is in parentheses and may itself contain spaces and parentheses.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  return { comm, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN if it is gone. */
function cpuSeconds(pid: number): number {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuSeconds;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in bytes, from /proc/<pid>/status; NaN if it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export interface NamedPid {
  name: string;
  pid: number;
}

/** Every process whose command name is one of `names`, with its command line (the process title). */
function processesNamed(names: readonly string[]): Array<{ pid: number; comm: string; cmdline: string }> {
  const found: Array<{ pid: number; comm: string; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (!names.includes(comm)) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      found.push({ pid: Number(entry), comm, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Whose a Postgres process is, from its title: a backend of `database` ('mine'), of another
 * database ('other': the shared server's other users), or the server's own processes
 * (postmaster, checkpointer, WAL writer…: 'server', the work every commit causes).
 * Backend titles read `postgres: [cluster: ]user database host(port) state`.
 */
export function postgresRole(cmdline: string, database: string): 'mine' | 'other' | 'server' {
  const backend = /^postgres: (?:[^\s:]+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(cmdline);
  if (!backend) return 'server';
  return backend[1] === database ? 'mine' : 'other';
}

/**
 * The infrastructure processes a system needs: nats-server, redis-server and Postgres (its
 * server processes plus the backends connected to the system's databases), each group
 * under one name. The servers are shared by everything on this machine; only Postgres's
 * backends can be told apart.
 */
export function infraProcesses(need: { nats?: boolean; redis?: boolean; postgresDatabases?: readonly string[] }): NamedPid[] {
  const names = [
    ...(need.nats ? ['nats-server'] : []),
    ...(need.redis ? ['redis-server'] : []),
    ...(need.postgresDatabases ? ['postgres'] : []),
  ];
  if (names.length === 0) return [];
  return processesNamed(names)
    .filter((p) => p.comm !== 'postgres' || need.postgresDatabases!.some((db) => postgresRole(p.cmdline, db) !== 'other'))
    .map((p) => ({ name: p.comm, pid: p.pid }));
}

/**
 * CPU seconds each named group of processes spends between `start()` and `stop()`. The
 * processes may be given as a function, asked again at `stop()`: a process that appeared
 * meanwhile (a new Postgres backend) counts all it spent; one that is gone by then counts
 * nothing (its last figures are unreadable). A name whose every process is gone is NaN.
 */
export class CpuMeter {
  private readonly before = new Map<number, number>();

  constructor(private readonly processes: readonly NamedPid[] | (() => readonly NamedPid[])) {}

  private list(): readonly NamedPid[] {
    return typeof this.processes === 'function' ? this.processes() : this.processes;
  }

  start(): this {
    for (const p of this.list()) this.before.set(p.pid, cpuSeconds(p.pid));
    return this;
  }

  stop(): Record<string, number> {
    const now = this.list().map((p) => ({ ...p, spent: cpuSeconds(p.pid) - (this.before.get(p.pid) ?? 0) }));
    return sumByName(now);
  }
}

/** The seconds of each name's processes, summed; a NaN (a process gone) counts only when all of a name's are. */
export function sumByName(spent: ReadonlyArray<{ name: string; spent: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { name, spent: s } of spent) {
    if (!(name in out)) out[name] = s;
    else if (Number.isNaN(out[name])) out[name] = s;
    else if (!Number.isNaN(s)) out[name] += s;
  }
  return out;
}

/**
 * CPU milliseconds per unit of work, per process: what each spent over a window of
 * `seconds`, less what it spends idle (`idleMsPerSecond`, measured with no traffic) over the
 * same time, divided by the units (runs, events) done.
 */
export function msPerUnitNetOfIdle(
  spentSeconds: Record<string, number>,
  idleMsPerSecond: Record<string, number>,
  seconds: number,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(spentSeconds).map(([name, s]) => [name, (s * 1000 - (idleMsPerSecond[name] ?? 0) * seconds) / Math.max(1, units)]),
  );
}
