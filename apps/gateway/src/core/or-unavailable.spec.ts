import { HeraldError } from '@herald/contracts';
import { orUnavailable } from './or-unavailable';

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
