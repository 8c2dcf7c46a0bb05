/** How often the pacer wakes up: finer costs the sending process more than it gains. */
const TICK_MS = 2;

/**
 * Open loop: calls `fire(i)` for i = 0 … rate × duration − 1, each at its due time
 * (start + i / rate), however slowly the system answers. When the event loop falls behind,
 * what is overdue fires at once, as a real client population would send it.
 * Resolves with the number fired, after the last one.
 */
export function paceOpenLoop(ratePerSecond: number, durationMs: number, fire: (i: number) => void): Promise<number> {
  const total = Math.max(1, Math.round((ratePerSecond * durationMs) / 1000));
  const start = performance.now();
  let fired = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * ratePerSecond) / 1000) + 1);
      while (fired < due) fire(fired++);
      if (fired >= total) resolve(fired);
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it is true or `timeoutMs` has passed; resolves with the last answer. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
