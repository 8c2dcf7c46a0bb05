import { setTimeout as sleep } from 'node:timers/promises';

/** How often a condition is asked again: often enough not to slow a test, not so often as to load the machine. */
const EVERY_MS = 20;

type Found<T> = Exclude<T, undefined | null | false>;

/**
 * Polls `check` until it returns something other than undefined, null or false, and resolves
 * with that; fails after `timeoutMs` saying what it waited for (`what`, or what `what()` says then).
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string | (() => string), timeoutMs = 10_000): Promise<Found<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value as Found<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${typeof what === 'string' ? what : what()}`);
    await sleep(EVERY_MS);
  }
}

/** Retries `assertion` until it stops throwing; after `timeoutMs`, fails with its last error. */
export async function eventually<T>(assertion: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(EVERY_MS);
    }
  }
}
