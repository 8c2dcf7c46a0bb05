import { cpus, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'cpu',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node} (load average at start ${m.loadAverage.join(' / ')})`;
}
