import { Histogram } from '../../bench/lib/histogram';
import { parseOptions } from '../../bench/lib/options';
import { recordRunEvent, type RunRecord, settledRuns, summarizeRuns } from '../../bench/lib/run-records';

describe('bench options (bench/lib/options)', () => {
  it('runs every system and workload by default, the peers on the smallest relay population', () => {
    const opts = parseOptions([]);
    expect(opts.targets).toEqual(['direct', 'bare', 'herald', 'socketio', 'langgraph']);
    expect(opts.workloads).toEqual(['memory', 'relay', 'runs', 'rates', 'crash']);
    expect(opts.rates).toEqual([10, 20, 40]);
    expect(opts.peerRelayUsers).toEqual([200]);
    expect(parseOptions(['--relay-users', '1000,300']).peerRelayUsers).toEqual([300]);
  });

  it('reads the peer flags and refuses what is not a positive number or a known name', () => {
    const opts = parseOptions(['--targets', 'herald,langgraph', '--workloads', 'rates,crash', '--rates', '5,15', '--crash-rate', '500']);
    expect(opts.targets).toEqual(['herald', 'langgraph']);
    expect(opts.workloads).toEqual(['rates', 'crash']);
    expect(opts.rates).toEqual([5, 15]);
    expect(opts.crashRate).toBe(500);
    expect(() => parseOptions(['--rates', '10,x'])).toThrow(/--rates must be positive numbers/);
    expect(() => parseOptions(['--rates', '10,-1'])).toThrow(/--rates/);
    expect(() => parseOptions(['--targets', 'herald,nginx'])).toThrow(/unknown "nginx"/);
  });
});

describe('bench run accounting (bench/lib/run-records)', () => {
  it('counts a run completed only when it ended with orchestration_completed after its message', () => {
    const done: RunRecord = { sentAt: 0, ackAt: 2 };
    recordRunEvent(done, 'orchestration_started', 5);
    recordRunEvent(done, 'message', 30);
    recordRunEvent(done, 'orchestration_completed', 40);
    const failed: RunRecord = { sentAt: 10, ackAt: 11 };
    recordRunEvent(failed, 'orchestration_started', 20);
    recordRunEvent(failed, 'error', 25);
    recordRunEvent(failed, 'orchestration_completed', 26); // after the terminal event: ignored
    const pending: RunRecord = { sentAt: 20 };
    const counters = { sent: 4, accepted: 2, refused: { RATE_LIMITED: 1 }, events: 6 };
    const stats = summarizeRuns([done, failed, pending], counters, new Histogram());
    expect(stats.completed).toBe(1);
    expect(stats.otherTerminal).toEqual({ error: 1 });
    expect(Histogram.from(stats.started).summary().max).toBe(10);
    expect(Histogram.from(stats.terminal).count).toBe(2);
    // Settled: the two that ended and the refused one; the pending run is not.
    expect(settledRuns([done, failed, pending], counters)).toBe(3);
  });
});
