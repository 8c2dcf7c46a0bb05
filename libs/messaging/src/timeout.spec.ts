import { TimeoutError, withTimeout } from './timeout';

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
