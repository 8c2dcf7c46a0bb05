/**
 * When a failed delivery is tried again (PROTOCOL.md §10): the first retries within a minute
 * (about 1 s, 5 s, 30 s), then backing off, for up to a day after the delivery was queued; the last
 * attempt comes at the end of that window. Each delay is spread by up to ±10 % so that the
 * retries of many runs that failed together do not arrive together.
 */
const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  1_000,
  5_000,
  30_000,
  2 * 60_000,
  5 * 60_000,
  30 * 60_000,
  60 * 60_000,
  2 * 3_600_000,
  4 * 3_600_000,
  8 * 3_600_000,
];
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3_600_000;
const JITTER = 0.1;

/**
 * The delay before the next attempt after `attemptsMade` failed ones (1 for the first),
 * `elapsedMs` after the message was queued, or -1 (BullMQ's "no retry") once the window is
 * spent. After the schedule's end the last delay repeats.
 */
export function webhookRetryDelayMs(
  attemptsMade: number,
  elapsedMs: number,
  windowMs = WEBHOOK_RETRY_WINDOW_MS,
  random = Math.random,
): number {
  const remaining = windowMs - elapsedMs;
  if (remaining <= 0) return -1;
  const base = WEBHOOK_RETRY_DELAYS_MS[Math.min(Math.max(attemptsMade, 1), WEBHOOK_RETRY_DELAYS_MS.length) - 1];
  const delay = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return Math.min(delay, remaining);
}
