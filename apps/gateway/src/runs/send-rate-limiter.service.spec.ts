import { randomUUID } from 'node:crypto';
import { HeraldError, subjects } from '@herald/contracts';
import { type Config } from '@herald/config';
import type { Logger } from '@herald/observability';
import IORedis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TIMEOUTS } from '../core/timeouts';
import { SendRateLimiter } from './send-rate-limiter.service';
import { strictMock } from '@herald/test-support/strict-mock';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function fakeLogger() {
  const warn = jest.fn();
  return { logger: strictMock<Logger>({ warn, info: jest.fn(), error: jest.fn(), debug: jest.fn() }, 'logger'), warn };
}

function limiterOn(redis: IORedis, points: number, logger: Logger = fakeLogger().logger): SendRateLimiter {
  return new SendRateLimiter(redis, { RATE_LIMIT_PER_MINUTE: points } as Config, subjects(`t${randomUUID().slice(0, 8)}`), logger);
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('SendRateLimiter on a real Redis', () => {
  let redis: IORedis;

  beforeAll(async () => {
    redis = new IORedis(REDIS_URL);
    await redis.ping(); // ready: the limiter refuses a client that is still connecting
  });
  afterAll(async () => {
    await redis.quit();
  });
  afterEach(() => jest.restoreAllMocks());

  it('takes RATE_LIMIT_PER_MINUTE points per user, then RATE_LIMITED with retryAfterMs within the minute', async () => {
    const limiter = limiterOn(redis, 2);
    await limiter.consume('u');
    await limiter.consume('u');
    const err = await errorOf(limiter.consume('u'));
    expect(HeraldError.is(err) && err.code).toBe('RATE_LIMITED');
    const retryAfterMs = (err as HeraldError).retryAfterMs!;
    expect(Number.isInteger(retryAfterMs)).toBe(true);
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    await limiter.consume('someone-else');
  });

  it('gives a point back', async () => {
    const limiter = limiterOn(redis, 1);
    await limiter.consume('u');
    await limiter.giveBack('u');
    await limiter.consume('u');
    expect(await errorOf(limiter.consume('u'))).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it.each([
    [1234.2, 1235],
    [0.3, 1],
    [0, 1],
  ])('rounds msBeforeNext %p up to retryAfterMs %p', async (msBeforeNext, retryAfterMs) => {
    jest.spyOn(RateLimiterRedis.prototype, 'consume').mockRejectedValue(new RateLimiterRes(0, msBeforeNext, 3, false));
    const err = await errorOf(limiterOn(redis, 2).consume('u'));
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs });
  });
});

describe('SendRateLimiter when Redis fails', () => {
  let refused: IORedis;

  beforeAll(async () => {
    refused = new IORedis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await refused.connect().catch(() => undefined);
  });
  afterAll(() => refused.disconnect());
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** A Redis that takes the command and never answers. */
  const hang = (method: 'consume' | 'reward') =>
    jest.spyOn(RateLimiterRedis.prototype, method).mockReturnValue(new Promise(() => undefined));

  it('answers UNAVAILABLE (not RATE_LIMITED) when Redis refuses, and logs it', async () => {
    const { logger, warn } = fakeLogger();
    const err = await errorOf(limiterOn(refused, 5, logger).consume('u'));
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('answers UNAVAILABLE once its timeout passes when Redis hangs', async () => {
    jest.useFakeTimers();
    hang('consume');
    let settled: unknown = 'pending';
    void errorOf(limiterOn(refused, 5).consume('u')).then((e) => (settled = e));
    await jest.advanceTimersByTimeAsync(TIMEOUTS.redisMs - 1);
    expect(settled).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(settled).toBeInstanceOf(HeraldError);
    expect(settled).toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('giveBack swallows a failing Redis and logs a warning', async () => {
    const { logger, warn } = fakeLogger();
    await expect(limiterOn(refused, 5, logger).giveBack('u')).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.anything(), 'could not give a rate-limit point back');
  });

  it('giveBack gives up on a hanging Redis after its timeout', async () => {
    jest.useFakeTimers();
    hang('reward');
    const { logger, warn } = fakeLogger();
    const done = limiterOn(refused, 5, logger).giveBack('u');
    await jest.advanceTimersByTimeAsync(TIMEOUTS.redisMs);
    await expect(done).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
