import { randomUUID } from 'node:crypto';
import { subjects } from '@herald/contracts';
import type { Logger } from '@herald/observability';
import IORedis from 'ioredis';
import { LeasePool, type LeasePoolOptions } from './lease-pool';
import { strictMock } from '@herald/test-support/strict-mock';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function fakeLogger() {
  const warn = jest.fn();
  return { logger: strictMock<Logger>({ warn, info: jest.fn(), error: jest.fn(), debug: jest.fn() }, 'logger'), warn };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LeasePool on a real Redis', () => {
  let redis: IORedis;
  let other: IORedis;
  const pools: LeasePool[] = [];
  let keyOf: (userId: string) => string;

  /** One gateway instance's pool (each on its own connection, as two processes would be). */
  const pool = (connection: IORedis, opts: Partial<LeasePoolOptions> = {}) => {
    const p = new LeasePool(
      connection,
      { name: 'test', keyOf, max: 3, leaseMs: 30_000, renewEveryMs: 10_000, owner: `gw-${pools.length}`, timeoutMs: 2000, ...opts },
      fakeLogger().logger,
    );
    pools.push(p);
    return p;
  };

  beforeAll(async () => {
    redis = new IORedis(REDIS_URL);
    other = new IORedis(REDIS_URL);
    await Promise.all([redis.ping(), other.ping()]);
  });
  beforeEach(() => {
    keyOf = subjects(`t${randomUUID().slice(0, 8)}`).keys.connections;
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await Promise.all([redis.quit(), other.quit()]);
  });

  it('admits at most `max` leases per user across instances, and another user has their own', async () => {
    const a = pool(redis);
    const b = pool(other);
    expect(await a.acquire('u')).not.toBeNull();
    expect(await b.acquire('u')).not.toBeNull();
    expect(await a.acquire('u')).not.toBeNull();
    expect(await b.acquire('u')).toBeNull();
    expect(await a.acquire('u')).toBeNull();
    expect(await redis.zcard(keyOf('u'))).toBe(3);
    expect(await b.acquire('someone else')).not.toBeNull();
  });

  it('admits exactly `max` of many concurrent acquisitions', async () => {
    const a = pool(redis, { max: 5 });
    const b = pool(other, { max: 5 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).acquire('crowd')));
    expect(results.filter((r) => r !== null)).toHaveLength(5);
    expect(await redis.zcard(keyOf('crowd'))).toBe(5);
  });

  it('frees a lease on release, once', async () => {
    const a = pool(redis, { max: 1 });
    const b = pool(other, { max: 1 });
    const lease = (await a.acquire('u'))!;
    expect(await b.acquire('u')).toBeNull();
    a.release(lease);
    a.release(lease);
    await redis.ping(); // the release went first on that connection
    const next = await b.acquire('u');
    expect(next).not.toBeNull();
    expect(a.holds(lease)).toBe(false);
    expect(await redis.zrange(keyOf('u'), 0, -1)).toEqual([next!.id]);
  });

  it("frees a crashed instance's leases once they expire, and keeps a live instance's by renewing them", async () => {
    const crashed = pool(redis, { max: 2, leaseMs: 600 });
    const alive = pool(other, { max: 2, leaseMs: 600 });
    expect(await crashed.acquire('u')).not.toBeNull(); // never renewed, never released: a dead gateway
    const kept = (await alive.acquire('u'))!;
    expect(await alive.acquire('u')).toBeNull();
    for (let i = 0; i < 4; i++) {
      await sleep(250);
      await alive.renew();
    }
    // 1 s later the dead instance's lease has expired; the live one's was renewed.
    const taken = await alive.acquire('u');
    expect(taken).not.toBeNull();
    const members = await redis.zrange(keyOf('u'), 0, -1);
    expect(members.sort()).toEqual([kept.id, taken!.id].sort());
    expect(await alive.acquire('u')).toBeNull();
  });

  it('the key itself expires with its last lease', async () => {
    const a = pool(redis, { leaseMs: 300 });
    await a.acquire('u');
    expect(await redis.pttl(keyOf('u'))).toBeGreaterThan(0);
    await sleep(450);
    expect(await redis.exists(keyOf('u'))).toBe(0);
  });

  it('writes back, at the next renewal, a lease the set lost', async () => {
    const a = pool(redis);
    const lease = (await a.acquire('u'))!;
    await redis.del(keyOf('u')); // e.g. Redis restarted without persistence
    await a.renew();
    expect(await redis.zrange(keyOf('u'), 0, -1)).toEqual([lease.id]);
  });

  it('gives every lease back on close', async () => {
    const a = pool(redis);
    await a.acquire('u');
    await a.acquire('v');
    await a.close();
    expect(await redis.exists(keyOf('u'), keyOf('v'))).toBe(0);
  });

  it('counts on this instance alone while Redis is unreachable', async () => {
    const refused = new IORedis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await refused.connect().catch(() => undefined);
    try {
      const { logger, warn } = fakeLogger();
      const down = new LeasePool(
        refused,
        { name: 'test', keyOf, max: 2, leaseMs: 30_000, renewEveryMs: 10_000, owner: 'gw-down', timeoutMs: 500 },
        logger,
      );
      expect(await down.acquire('u')).not.toBeNull();
      expect(await down.acquire('u')).not.toBeNull();
      expect(await down.acquire('u')).toBeNull();
      expect(down.heldLocally('u')).toBe(2);
      expect(warn).toHaveBeenCalled();
      await down.close(); // must not throw either
    } finally {
      refused.disconnect();
    }
  });
});
