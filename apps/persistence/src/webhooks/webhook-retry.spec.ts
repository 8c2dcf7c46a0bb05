import { WEBHOOK_RETRY_WINDOW_MS, webhookRetryDelayMs } from './webhook-retry';

describe('webhook retry schedule', () => {
  const mid = () => 0.5; // no jitter
  const S = 1000;
  const H = 3_600_000;

  it('retries about 1 s, 5 s and 30 s after the first failures, then backs off to hours', () => {
    const delays = Array.from({ length: 12 }, (_, i) => webhookRetryDelayMs(i + 1, 0, WEBHOOK_RETRY_WINDOW_MS, mid));
    expect(delays.slice(0, 3)).toEqual([1 * S, 5 * S, 30 * S]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
    expect(delays.at(-1)).toBe(8 * H);
  });

  it('spreads each delay by at most 10 %', () => {
    expect(webhookRetryDelayMs(1, 0, WEBHOOK_RETRY_WINDOW_MS, () => 0)).toBe(900);
    expect(webhookRetryDelayMs(1, 0, WEBHOOK_RETRY_WINDOW_MS, () => 0.999999)).toBe(1100);
    expect(webhookRetryDelayMs(2, 0, WEBHOOK_RETRY_WINDOW_MS, () => 0)).toBe(4500);
  });

  it('keeps trying for 24 hours, the last attempt at the end of the window, then gives up', () => {
    let elapsed = 0;
    let attempts = 1;
    for (;;) {
      const delay = webhookRetryDelayMs(attempts, elapsed, WEBHOOK_RETRY_WINDOW_MS, mid);
      if (delay === -1) break;
      expect(delay).toBeGreaterThan(0);
      elapsed += delay;
      attempts += 1;
    }
    expect(elapsed).toBe(24 * H);
    expect(attempts).toBeGreaterThan(10);
    expect(attempts).toBeLessThan(20);
  });

  it('gives up at once when the window is spent, and shortens the delay to what is left', () => {
    expect(webhookRetryDelayMs(1, 3000, 3000, mid)).toBe(-1);
    expect(webhookRetryDelayMs(2, 1000, 3000, mid)).toBe(2000);
  });
});
