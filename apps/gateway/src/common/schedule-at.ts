/** setTimeout's longest delay; longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn` at the epoch time `atMs` (at once if it has passed). Returns a cancel function. */
export function scheduleAt(atMs: number, fn: () => void, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const delay = atMs - now();
    if (delay <= 0) {
      timer = undefined;
      fn();
      return;
    }
    timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS));
    timer.unref?.();
  };
  arm();
  return () => clearTimeout(timer);
}
