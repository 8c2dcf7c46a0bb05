import { randomBytes } from 'node:crypto';
import { TokenVerifier, signDevToken } from '@herald/auth';
import { isValidUserId, MAX_USER_ID_LENGTH, parseEventSubject, subjects, userToken } from '@herald/contracts';
import fc from 'fast-check';
import IORedis from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { waitFor } from '../../support/polling';

/**
 * PROTOCOL.md §1: two different accepted user ids never share a NATS subject, a Redis key or a
 * row. Before the rule, `"x\uD800"` was accepted and NATS, Redis and Postgres each stored it as
 * `"x\uFFFD"`: that user read another's events, conversations and messages. The property is
 * checked over arbitrary strings that include lone surrogates, controls and subject syntax, and
 * each accepted id is sent through the real NATS, Redis and Postgres and must come back unchanged.
 */

/** Single UTF-16 units (lone surrogates included), astral code points, and the characters that broke things before. */
const unit = fc.oneof(
  fc.constantFrom('.', '*', '>', ' ', ':', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', '\u0000', '\u0085', '\u007F', 'é', 'e\u0301'),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
);
const anyString = fc.array(unit, { maxLength: MAX_USER_ID_LENGTH + 8 }).map((units) => units.join(''));
const acceptedId = anyString.filter(isValidUserId);

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECRET = 'identity-test-secret-0123456789-abcdefgh';

describe('user identity: one accepted id, one subject, one key, one row', () => {
  const ns = `id${randomBytes(4).toString('hex')}`;
  const s = subjects(ns);
  let nc: NatsConnection;
  let redis: IORedis;
  let pg: Client;

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    redis = new IORedis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
    const url = new URL(DATABASE_URL);
    url.pathname = '/postgres';
    pg = new Client({ connectionString: url.toString() });
    await pg.connect();
  });

  afterAll(async () => {
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await pg.end();
    await nc.close();
  });

  it('accepts only well-formed strings of 1 to 128 characters without control characters', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        const wellFormed = !/\p{Cs}/u.test(value);
        const chars = [...value].length;
        const expected = wellFormed && chars >= 1 && chars <= MAX_USER_ID_LENGTH && !/\p{Cc}/u.test(value);
        expect(isValidUserId(value)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    expect(isValidUserId('x\uD800')).toBe(false);
    expect(isValidUserId('x\uFFFD')).toBe(true);
  });

  it('maps two different accepted ids to two different subject tokens of subject-safe characters', () => {
    fc.assert(
      fc.property(acceptedId, acceptedId, (a, b) => {
        expect(userToken(a)).toMatch(/^[\w-]+$/);
        expect(parseEventSubject(s.events(a, 'c', 'r'))?.userId).toBe(a);
        if (a !== b) {
          expect(userToken(a)).not.toBe(userToken(b));
          expect(s.liveOfUser(a)).not.toBe(s.liveOfUser(b));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a token whose sub is not well-formed, and keeps the U+FFFD user apart', async () => {
    const verifier = new TokenVerifier({ mode: 'secret', secret: SECRET });
    const sign = (sub: string) => signDevTokenUnchecked(sub);
    await expect(verifier.verify(await sign('x\uD800'))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await verifier.verify(await signDevToken('x\uFFFD', SECRET, { ttlSeconds: 60 }))).userId).toBe('x\uFFFD');
    await expect(signDevToken('x\uD800', SECRET, { ttlSeconds: 60 })).rejects.toThrow(/userId/);
  });

  it('sends every accepted id through NATS, Redis and Postgres unchanged', async () => {
    const ids = fc.sample(acceptedId, 150);
    ids.push('x\uFFFD', '*', '>', 'a.b c', '😀'.repeat(MAX_USER_ID_LENGTH));

    // NATS: the subject a publisher builds names the same user for the subscriber, never another.
    const received: string[] = [];
    const sub = nc.subscribe(`${ns}.evt.>`, { callback: (_e, msg) => received.push(parseEventSubject(msg.subject)?.userId ?? '') });
    for (const id of ids) nc.publish(s.events(id, 'c', 'r'));
    await nc.flush();
    await waitFor(
      () => received.length >= ids.length,
      () => `${ids.length} messages, got ${received.length}`,
      1_000,
    );
    sub.unsubscribe();
    expect(received).toEqual(ids);

    // Redis: a key per user, as the rate limiters build them, holds that user and only that user.
    const keyOf = (id: string) => `${s.keys.rateLimit}:${id}`;
    for (const id of ids) await redis.set(keyOf(id), id);
    for (const id of ids) expect(await redis.get(keyOf(id))).toBe(id);
    expect(new Set(await redis.keys(`${s.keys.rateLimit}:*`)).size).toBe(new Set(ids).size);

    // Postgres: the text a row stores reads back as the same string.
    const { rows } = await pg.query<{ id: string }>('SELECT unnest($1::text[]) AS id', [ids]);
    expect(rows.map((r) => r.id)).toEqual(ids);
  });
});

/** signDevToken refuses bad ids, as it should: this signs the raw claim to show the verifier refuses it too. */
async function signDevTokenUnchecked(sub: string): Promise<string> {
  const { SignJWT } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(new TextEncoder().encode(SECRET));
}
