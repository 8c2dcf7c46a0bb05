import IORedis, { type Redis } from 'ioredis';
import type { Logger } from '@herald/observability';

export type { Redis };

/**
 * A Redis connection that retries forever with backoff (a Redis restart must not end a
 * service) and fails commands fast while disconnected, so callers can answer UNAVAILABLE.
 */
export function createRedis(url: string, logger?: Logger, opts: { forBullmq?: boolean } = {}): Redis {
  const redis = new IORedis(url, {
    maxRetriesPerRequest: opts.forBullmq ? null : 1,
    enableOfflineQueue: opts.forBullmq ? true : false,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    lazyConnect: false,
  });
  redis.on('error', (err) => logger?.warn({ err: err.message }, 'redis error'));
  return redis;
}
