import { ErrorCode, HeraldError } from '@herald/contracts';

/** A backing service did not answer in time. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Rejects with a TimeoutError when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `fn` with a timeout; any failure that is not already a HeraldError becomes UNAVAILABLE. */
export async function orUnavailable<T>(fn: () => Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withTimeout(fn(), ms, what);
  } catch (err) {
    if (HeraldError.is(err)) throw err;
    throw new HeraldError(ErrorCode.UNAVAILABLE, 'A backing service is unavailable. Please try again shortly.');
  }
}
