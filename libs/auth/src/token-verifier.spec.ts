import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { DEV_JWT_SECRET } from '@herald/config';
import { signDevToken } from './dev-token';
import { isAdmin } from './roles';
import { TokenVerifier } from './token-verifier';
import { UnauthorizedError } from './unauthorized.error';

const SECRET = 'test-secret-0123456789-0123456789-abcdef';
const enc = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSec = () => Math.floor(Date.now() / 1000);

/** `iat` is now unless the payload names it (`iat: undefined` leaves it out). */
const issuedNow = (payload: JWTPayload): JWTPayload => ('iat' in payload ? payload : { iat: nowSec(), ...payload });

async function hs256(payload: JWTPayload, secret = SECRET, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(issuedNow(payload)).setProtectedHeader({ alg: 'HS256', ...header }).sign(new TextEncoder().encode(secret));
}

async function expectRefused(verifier: TokenVerifier, token: unknown, reason?: RegExp): Promise<UnauthorizedError> {
  const err = await verifier.verify(token).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnauthorizedError);
  const refused = err as UnauthorizedError;
  expect(refused.code).toBe('UNAUTHORIZED');
  if (reason) expect(refused.reason).toMatch(reason);
  if (typeof token === 'string' && token.length > 0) expect(refused.reason).not.toContain(token);
  return refused;
}

const CONFIG = { JWT_SECRET: SECRET, JWKS_URL: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined };

describe('TokenVerifier (HS256 secret)', () => {
  const verifier = TokenVerifier.fromConfig(CONFIG);

  it('accepts a valid token and returns the user, expiry and claims', async () => {
    const exp = nowSec() + 600;
    const result = await verifier.verify(await hs256({ sub: 'alice', exp, role: 'x' }));
    expect(verifier.mode).toBe('secret');
    expect(result.userId).toBe('alice');
    expect(result.expiresAt).toBe(exp * 1000);
    expect(result.claims.role).toBe('x');
  });

  it('accepts tokens signed by signDevToken', async () => {
    const token = await signDevToken('bob', SECRET, { ttlSeconds: 60 });
    const result = await verifier.verify(token);
    expect(result.userId).toBe('bob');
    expect(result.expiresAt).toBeGreaterThan(Date.now());
    expect(result.expiresAt).toBeLessThanOrEqual(Date.now() + 61_000);
  });

  it.each(['*', '>', 'a.b c', 'x'.repeat(128), '😀'.repeat(128), 'user@example.com', 'ünï 😀', '\uFFFD'])(
    'accepts the user id %j as data',
    async (sub) => {
      expect((await verifier.verify(await hs256({ sub, exp: nowSec() + 60 }))).userId).toBe(sub);
    },
  );

  it.each([
    ['a lone high surrogate', 'x\uD800'],
    ['a lone low surrogate', '\uDC00x'],
    ['a reversed pair', '\uDE00\uD83D'],
    ['a NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['DEL', 'a\u007F'],
    ['a C1 control', 'a\u0085'],
    ['129 characters', '😀'.repeat(129)],
  ])('refuses a sub with %s', async (_label, sub) => {
    await expectRefused(verifier, await hs256({ sub, exp: nowSec() + 60 }), /sub/);
  });

  it('refuses a token without iat', async () => {
    await expectRefused(verifier, await hs256({ sub: 'alice', exp: nowSec() + 60, iat: undefined }), /iat/);
  });

  it('refuses a token issued in the future (beyond the clock tolerance), accepts one within it', async () => {
    await expectRefused(verifier, await hs256({ sub: 'alice', iat: nowSec() + 120, exp: nowSec() + 600 }), /iat/);
    expect((await verifier.verify(await hs256({ sub: 'alice', iat: nowSec() + 10, exp: nowSec() + 600 }))).userId).toBe('alice');
  });

  it('refuses a token that lives longer than JWT_MAX_TTL_SECONDS (default a day)', async () => {
    const now = nowSec();
    await expectRefused(verifier, await hs256({ sub: 'alice', iat: now, exp: now + 100 * 365 * 86_400 }), /longer/);
    await expectRefused(verifier, await hs256({ sub: 'alice', iat: now, exp: now + 86_401 }), /longer/);
    expect((await verifier.verify(await hs256({ sub: 'alice', iat: now, exp: now + 86_400 }))).userId).toBe('alice');
    const short = TokenVerifier.fromConfig({ ...CONFIG, JWT_MAX_TTL_SECONDS: 60 });
    await expectRefused(short, await hs256({ sub: 'alice', iat: now, exp: now + 61 }), /longer than 60/);
  });

  it('honours the role claim with a real secret', async () => {
    const claims = (await verifier.verify(await hs256({ sub: 'alice', exp: nowSec() + 60, role: 'admin', roles: ['admin'] }))).claims;
    expect(claims).toMatchObject({ role: 'admin', roles: ['admin'] });
  });

  it('refuses an expired token', async () => {
    await expectRefused(verifier, await hs256({ sub: 'alice', iat: nowSec() - 600, exp: nowSec() - 60 }), /ERR_JWT_EXPIRED/);
  });

  it('refuses a token without exp', async () => {
    await expectRefused(verifier, await hs256({ sub: 'alice' }), /exp/);
  });

  it('refuses a token with a non-numeric exp', async () => {
    await expectRefused(verifier, await hs256({ sub: 'alice', exp: 'tomorrow' as unknown as number }));
  });

  it('refuses a token whose nbf is in the future', async () => {
    await expectRefused(verifier, await hs256({ sub: 'alice', exp: nowSec() + 600, nbf: nowSec() + 300 }), /nbf/);
  });

  it('accepts a token whose nbf has passed', async () => {
    expect((await verifier.verify(await hs256({ sub: 'alice', exp: nowSec() + 600, nbf: nowSec() - 5 }))).userId).toBe('alice');
  });

  it('refuses a token signed with another secret', async () => {
    await expectRefused(verifier, await hs256({ sub: 'alice', exp: nowSec() + 60 }, 'another-secret-0123456789-0123456789'), /SIGNATURE/);
  });

  it('refuses alg none, with or without a signature', async () => {
    const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'alice', exp: nowSec() + 60 })}.`;
    await expectRefused(verifier, unsigned);
    const valid = await hs256({ sub: 'alice', exp: nowSec() + 60 });
    const withNoneHeader = `${enc({ alg: 'none' })}.${valid.split('.')[1]}.${valid.split('.')[2]}`;
    await expectRefused(verifier, withNoneHeader);
  });

  it('refuses a valid token spelled with characters base64url has not (jose would decode around them)', async () => {
    const valid = await hs256({ sub: 'alice', exp: nowSec() + 60 });
    await expect(verifier.verify(valid)).resolves.toMatchObject({ userId: 'alice' });
    for (const spelling of [
      `${valid},`,
      `${valid}!!`,
      `${valid}==`,
      `${valid} `,
      `${valid.replace('.', '.=')}`,
      `${valid}.`,
      `x${valid.slice(1)}`.replace(/^x/, '+'),
    ]) {
      await expectRefused(verifier, spelling);
    }
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = (await hs256({ sub: 'alice', exp: nowSec() + 60 })).split('.');
    await expectRefused(verifier, `${h}.${enc({ sub: 'admin', exp: nowSec() + 60 })}.${s}`, /SIGNATURE/);
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
    ['a number', 42],
    ['an array', ['alice']],
    ['missing', undefined],
  ])('refuses a sub that is %s', async (_label, sub) => {
    const payload = { exp: nowSec() + 60, ...(sub === undefined ? {} : { sub }) } as JWTPayload;
    await expectRefused(verifier, await hs256(payload), /sub/);
  });

  it.each([undefined, null, '', 42, {}, 'garbage', 'a.b.c', 'x'.repeat(9000)])('refuses the non-token %j', async (token) => {
    await expectRefused(verifier, token);
  });
});

describe('TokenVerifier with the public development secret', () => {
  const verifier = TokenVerifier.fromConfig({ ...CONFIG, JWT_SECRET: DEV_JWT_SECRET });

  it('proves a name but never a role: anyone can sign with that secret', async () => {
    const result = await verifier.verify(
      await hs256({ sub: 'mallory', exp: nowSec() + 60, role: 'admin', roles: ['admin'] }, DEV_JWT_SECRET),
    );
    expect(result.userId).toBe('mallory');
    expect(result.claims).not.toHaveProperty('role');
    expect(result.claims).not.toHaveProperty('roles');
    expect(isAdmin(result.claims)).toBe(false);
  });
});

describe('TokenVerifier with JWT_ISSUER / JWT_AUDIENCE', () => {
  const verifier = TokenVerifier.fromConfig({ JWT_SECRET: SECRET, JWKS_URL: undefined, JWT_ISSUER: 'herald-idp', JWT_AUDIENCE: 'herald' });
  const exp = () => nowSec() + 60;

  it('accepts matching iss and aud (aud as a string or in a list)', async () => {
    expect((await verifier.verify(await hs256({ sub: 'a', exp: exp(), iss: 'herald-idp', aud: 'herald' }))).userId).toBe('a');
    expect((await verifier.verify(await hs256({ sub: 'a', exp: exp(), iss: 'herald-idp', aud: ['x', 'herald'] }))).userId).toBe('a');
  });

  it('refuses a wrong or missing issuer', async () => {
    await expectRefused(verifier, await hs256({ sub: 'a', exp: exp(), iss: 'evil', aud: 'herald' }), /iss/);
    await expectRefused(verifier, await hs256({ sub: 'a', exp: exp(), aud: 'herald' }), /iss/);
  });

  it('refuses a wrong or missing audience', async () => {
    await expectRefused(verifier, await hs256({ sub: 'a', exp: exp(), iss: 'herald-idp', aud: 'other' }), /aud/);
    await expectRefused(verifier, await hs256({ sub: 'a', exp: exp(), iss: 'herald-idp' }), /aud/);
  });

  it('accepts dev tokens signed with the same issuer and audience', async () => {
    const token = await signDevToken('carol', SECRET, { ttlSeconds: 60, issuer: 'herald-idp', audience: 'herald' });
    expect((await verifier.verify(token)).userId).toBe('carol');
  });
});

describe('TokenVerifier (JWKS: RS256 / ES256)', () => {
  const ISSUER = 'https://idp.example.com/';
  const AUDIENCE = 'herald';
  let server: Server;
  let jwksUrl: string;
  let rsa: { publicKey: KeyLike; privateKey: KeyLike };
  let ec: { publicKey: KeyLike; privateKey: KeyLike };
  let rsaPublicPem: string;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    rsaPublicPem = await exportSPKI(rsa.publicKey);
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    verifier = TokenVerifier.fromConfig({ JWT_SECRET: SECRET, JWKS_URL: jwksUrl, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Signed for Herald (its issuer and audience) unless the payload says otherwise. */
  const sign = (alg: 'RS256' | 'ES256', kid: string, key: KeyLike, payload: JWTPayload) =>
    new SignJWT(issuedNow({ iss: ISSUER, aud: AUDIENCE, ...payload })).setProtectedHeader({ alg, kid }).sign(key);

  it('refuses a token the same key set issued for another application (other aud or iss)', async () => {
    await expectRefused(verifier, await sign('RS256', 'rsa-1', rsa.privateKey, { sub: 'x', exp: nowSec() + 60, aud: 'other-app' }), /aud/);
    await expectRefused(
      verifier,
      await sign('RS256', 'rsa-1', rsa.privateKey, { sub: 'x', exp: nowSec() + 60, iss: 'https://other' }),
      /iss/,
    );
  });

  it('accepts RS256 tokens signed by a published key', async () => {
    expect(verifier.mode).toBe('jwks');
    const token = await sign('RS256', 'rsa-1', rsa.privateKey, { sub: 'rs-user', exp: nowSec() + 60 });
    expect((await verifier.verify(token)).userId).toBe('rs-user');
  });

  it('accepts ES256 tokens signed by a published key', async () => {
    const token = await sign('ES256', 'ec-1', ec.privateKey, { sub: 'a.b c', exp: nowSec() + 60 });
    expect((await verifier.verify(token)).userId).toBe('a.b c');
  });

  it('refuses RS256 tokens from a key the JWKS does not publish', async () => {
    const stranger = await generateKeyPair('RS256');
    const token = await sign('RS256', 'rsa-1', stranger.privateKey, { sub: 'x', exp: nowSec() + 60 });
    await expectRefused(verifier, token, /SIGNATURE/);
  });

  it('refuses HS256 tokens, even signed with the configured secret', async () => {
    await expectRefused(verifier, await hs256({ sub: 'x', exp: nowSec() + 60 }), /ALG_NOT_ALLOWED/);
  });

  it('refuses algorithm confusion: HS256 signed with the public key text', async () => {
    const token = await hs256({ sub: 'x', exp: nowSec() + 60 }, rsaPublicPem, { kid: 'rsa-1' });
    await expectRefused(verifier, token, /ALG_NOT_ALLOWED/);
  });

  it('refuses alg none', async () => {
    await expectRefused(verifier, `${enc({ alg: 'none', kid: 'rsa-1' })}.${enc({ sub: 'x', exp: nowSec() + 60 })}.`);
  });

  it('refuses expired and exp-less tokens', async () => {
    await expectRefused(
      verifier,
      await sign('ES256', 'ec-1', ec.privateKey, { sub: 'x', iat: nowSec() - 600, exp: nowSec() - 60 }),
      /EXPIRED/,
    );
    await expectRefused(verifier, await sign('ES256', 'ec-1', ec.privateKey, { sub: 'x' }), /exp/);
  });

  it('refuses (without hanging) when the JWKS cannot be fetched', async () => {
    const offline = new TokenVerifier({
      mode: 'jwks',
      jwksUrl: 'http://127.0.0.1:9/jwks.json',
      jwksTimeoutMs: 1000,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const token = await sign('RS256', 'rsa-1', rsa.privateKey, { sub: 'x', exp: nowSec() + 60 });
    await expectRefused(offline, token);
  });
});
