import { createServer, connect, type AddressInfo } from 'node:net';
import { cpus, loadavg, release, totalmem } from 'node:os';

/**
 * How fast this machine is right now, from two small fixed tasks. The machine is a VM whose
 * speed varies over hours by up to twice (other tenants of its host): the same code measured
 * 112k and 62k acknowledged publishes/s on one afternoon. Results of runs taken at different
 * moments compare only alongside these figures.
 */
export interface SpeedProbe {
  /** A fixed loop of integer arithmetic, ms (lower is faster). */
  cpuLoopMs: number;
  /** One byte back and forth over a loopback TCP connection, µs per round trip. */
  loopbackRoundTripUs: number;
}

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  loadAverage: number[];
  speedAtStart?: SpeedProbe;
  speedAtEnd?: SpeedProbe;
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

/** The median of three of each task. */
export async function probeSpeed(): Promise<SpeedProbe> {
  const loops: number[] = [];
  const trips: number[] = [];
  for (let i = 0; i < 3; i++) {
    loops.push(cpuLoopMs());
    trips.push(await loopbackRoundTripUs(5000));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  return { cpuLoopMs: Math.round(median(loops)), loopbackRoundTripUs: Math.round(median(trips) * 10) / 10 };
}

function cpuLoopMs(): number {
  const started = process.hrtime.bigint();
  let x = 0;
  for (let i = 0; i < 5e7; i++) x = (x + i * 7) % 1_000_003;
  if (x < 0) throw new Error('unreachable'); // keeps the loop from being optimised away
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function loopbackRoundTripUs(trips: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.on('data', (d) => socket.write(d)));
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      client.setNoDelay(true);
      client.on('error', reject);
      let done = 0;
      let started = 0n;
      client.on('data', () => {
        if (++done < trips) return void client.write('x');
        const us = Number(process.hrtime.bigint() - started) / 1e3 / trips;
        client.destroy();
        server.close();
        resolve(us);
      });
      client.on('connect', () => {
        started = process.hrtime.bigint();
        client.write('x');
      });
    });
  });
}

const describeSpeed = (s: SpeedProbe) => `CPU loop ${s.cpuLoopMs} ms, loopback round trip ${s.loopbackRoundTripUs} µs`;

export function describeMachine(m: MachineInfo): string {
  const speed = [
    m.speedAtStart ? `speed probe at start: ${describeSpeed(m.speedAtStart)}` : '',
    m.speedAtEnd ? `at the end: ${describeSpeed(m.speedAtEnd)}` : '',
  ].filter(Boolean);
  return `${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node} (load average at start ${m.loadAverage.join(' / ')}${speed.length ? `; ${speed.join('; ')}` : ''})`;
}
