import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN if it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
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

/** CPU seconds each process spends between `start()` and `stop()`. */
export class CpuMeter {
  private readonly before = new Map<string, number>();

  constructor(private readonly processes: readonly NamedPid[]) {}

  start(): this {
    for (const p of this.processes) this.before.set(p.name, cpuSeconds(p.pid));
    return this;
  }

  stop(): Record<string, number> {
    const spent: Record<string, number> = {};
    for (const p of this.processes) spent[p.name] = cpuSeconds(p.pid) - (this.before.get(p.name) ?? NaN);
    return spent;
  }
}
