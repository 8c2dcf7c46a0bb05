import { CpuMeter, msPerUnitNetOfIdle, parseStat, postgresRole, sumByName } from '../../bench/lib/proc-stat';

describe('bench CPU accounting (bench/lib/proc-stat)', () => {
  it('reads utime + stime from a /proc/<pid>/stat line, whatever the command name holds', () => {
    // Fields 14 and 15 (utime, stime) are 1234 and 567 clock ticks.
    const tail = 'S 1 2 3 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 1 0 500 1000 200';
    expect(parseStat(`42 (nats-server) ${tail}`)).toEqual({ comm: 'nats-server', cpuSeconds: 18.01 });
    expect(parseStat(`42 (a b) (c)) ${tail}`)).toEqual({ comm: 'a b) (c)', cpuSeconds: 18.01 });
  });

  it("tells a database's backends from other databases' and from the server's own processes", () => {
    expect(postgresRole('postgres: 15/main: postgres herald_ab12 127.0.0.1(40112) idle', 'herald_ab12')).toBe('mine');
    expect(postgresRole('postgres: postgres herald_ab12 [local] SELECT', 'herald_ab12')).toBe('mine');
    expect(postgresRole('postgres: 15/main: postgres herald_zz99 127.0.0.1(40113) idle', 'herald_ab12')).toBe('other');
    expect(postgresRole('postgres: 15/main: walwriter', 'herald_ab12')).toBe('server');
    expect(postgresRole('postgres: 15/main: logical replication launcher', 'herald_ab12')).toBe('server');
    expect(postgresRole('/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main', 'herald_ab12')).toBe('server');
  });

  it('sums the processes of one name, a gone process counting nothing unless all of them are gone', () => {
    expect(
      sumByName([
        { name: 'postgres', spent: 0.5 },
        { name: 'postgres', spent: NaN },
        { name: 'postgres', spent: 0.25 },
        { name: 'gateway-0', spent: NaN },
      ]),
    ).toEqual({ postgres: 0.75, 'gateway-0': NaN });
  });

  it('subtracts what each process spends idle over the window, per unit of work', () => {
    // 2 s of CPU in a 4 s window with 100 runs; idle 50 ms/s → 200 ms of the 2,000 are idle.
    expect(msPerUnitNetOfIdle({ worker: 2, redis: 0.1 }, { worker: 50 }, 4, 100)).toEqual({ worker: 18, redis: 1 });
  });

  it('measures what this process spends, and counts a process that appears meanwhile from zero', () => {
    let list = [{ name: 'self', pid: process.pid }];
    const meter = new CpuMeter(() => list).start();
    const until = Date.now() + 50;
    while (Date.now() < until); // spend some CPU
    list = [...list, { name: 'self', pid: process.pid }];
    const spent = meter.stop();
    expect(Object.keys(spent)).toEqual(['self']);
    // The second entry (same pid, absent at start) counts its whole CPU time: more than the window's.
    expect(spent.self).toBeGreaterThan(0);
  });
});
