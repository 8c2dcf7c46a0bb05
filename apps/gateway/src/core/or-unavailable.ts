import { ErrorCode, HeraldError } from '@herald/contracts';
import { withTimeout } from '@herald/messaging';

/** Runs `fn` with a timeout; any failure that is not already a HeraldError becomes UNAVAILABLE. */
export async function orUnavailable<T>(fn: () => Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withTimeout(fn(), ms, what);
  } catch (err) {
    if (HeraldError.is(err)) throw err;
    throw new HeraldError(ErrorCode.UNAVAILABLE, 'A backing service is unavailable. Please try again shortly.');
  }
}
