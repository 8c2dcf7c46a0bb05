import { Deadlines } from './deadlines';

describe('Deadlines', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000_250 }));
  afterEach(() => jest.useRealTimers());

  it('expires each item once its deadline has passed, never before, at most one tick late', () => {
    const expired: Array<[string, number]> = [];
    const d = new Deadlines<string>((item) => expired.push([item, Date.now()]));
    const t0 = Date.now();
    d.add('a', t0 + 1500);
    d.add('b', t0 + 1500);
    d.add('c', t0 + 4200);
    jest.advanceTimersByTime(1400);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1100);
    expect(expired.map(([item]) => item)).toEqual(['a', 'b']);
    for (const [, at] of expired) expect(at - (t0 + 1500)).toBeGreaterThanOrEqual(0);
    for (const [, at] of expired) expect(at - (t0 + 1500)).toBeLessThanOrEqual(1000);
    jest.advanceTimersByTime(1700); // t0 + 4200
    expect(expired).toHaveLength(2);
    jest.advanceTimersByTime(1000); // t0 + 5200: the deadline plus one tick
    expect(expired.map(([item]) => item)).toEqual(['a', 'b', 'c']);
    expect(expired[2][1] - (t0 + 4200)).toBeGreaterThanOrEqual(0);
    expect(expired[2][1] - (t0 + 4200)).toBeLessThanOrEqual(1000);
    expect(d.size).toBe(0);
  });

  it('expires an item whose deadline has passed right after the current turn, unless it is deleted first', () => {
    const onExpire = jest.fn();
    const d = new Deadlines<string>(onExpire);
    d.add('late', Date.now() - 1);
    d.add('gone', Date.now() - 1);
    expect(onExpire).not.toHaveBeenCalled(); // never inside the caller's turn
    d.delete('gone');
    jest.runAllTicks(); // the microtask queue (faked with the timers)
    expect(onExpire.mock.calls).toEqual([['late']]);
    expect(d.size).toBe(0);
  });

  it('forgets a deleted item, and a re-added item keeps only its new deadline', () => {
    const onExpire = jest.fn();
    const d = new Deadlines<string>(onExpire);
    d.add('gone', Date.now() + 500);
    d.add('moved', Date.now() + 500);
    d.delete('gone');
    d.add('moved', Date.now() + 5000);
    jest.advanceTimersByTime(3000);
    expect(onExpire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(3000);
    expect(onExpire.mock.calls).toEqual([['moved']]);
  });

  it('runs no timer while nothing waits, and picks up again after a long idle time', () => {
    const onExpire = jest.fn();
    const d = new Deadlines<string>(onExpire);
    d.add('x', Date.now() + 100);
    d.delete('x');
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(3_600_000);
    d.add('y', Date.now() + 30 * 86_400_000); // beyond setTimeout's 24.8-day limit
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(30 * 86_400_000 - 1000);
    expect(onExpire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(2000);
    expect(onExpire).toHaveBeenCalledWith('y');
    expect(jest.getTimerCount()).toBe(0);
  });
});
