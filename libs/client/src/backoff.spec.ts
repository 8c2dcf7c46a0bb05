import { Backoff } from './backoff';

describe('Backoff', () => {
  it('doubles from the initial delay up to the maximum, without jitter', () => {
    const b = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('randomises the jitter share of each delay', () => {
    const low = new Backoff({ initialDelayMs: 1000, jitter: 0.5 }, () => 0);
    const high = new Backoff({ initialDelayMs: 1000, jitter: 0.5 }, () => 1);
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1000);
  });
});
