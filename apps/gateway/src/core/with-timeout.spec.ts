import { HeraldError } from '@herald/contracts';
import { orUnavailable, TimeoutError, withTimeout } from './with-timeout';

describe('withTimeout', () => {
  it('resolves with the value when in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 100, 'x')).resolves.toBe(7);
  });

  it('rejects with a TimeoutError naming what hung', async () => {
    const err = await withTimeout(new Promise(() => undefined), 20, 'redis').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toMatch(/redis/);
  });
});

describe('orUnavailable', () => {
  it('turns timeouts and plain errors into UNAVAILABLE', async () => {
    const hung = await orUnavailable(() => new Promise(() => undefined), 20, 'x').catch((e: unknown) => e);
    expect(HeraldError.is(hung) && hung.code).toBe('UNAVAILABLE');
    const failed = await orUnavailable(() => Promise.reject(new Error('ECONNREFUSED')), 100, 'x').catch((e: unknown) => e);
    expect(HeraldError.is(failed) && failed.code).toBe('UNAVAILABLE');
  });

  it('keeps HeraldErrors as they are', async () => {
    const err = await orUnavailable(() => Promise.reject(new HeraldError('NOT_FOUND', 'nope')), 100, 'x').catch((e: unknown) => e);
    expect(HeraldError.is(err) && err.code).toBe('NOT_FOUND');
  });
});
