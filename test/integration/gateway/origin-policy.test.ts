import { io } from 'socket.io-client';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import { randomNamespace, startTestGateway, TestBus, tokenFor } from '../../support/gateway-harness';

/**
 * Fail closed at the edge (SECURITY.md): a browser page of another origin is refused on
 * Socket.IO and HTTP unless CORS_ORIGINS names it; development tokens are for the gateway's
 * own page only, carry no role, and development mode listens on loopback.
 */
const EVIL = 'https://evil.example';
const FRIEND = 'https://app.example.com';

/** Resolves true when a Socket.IO handshake sent with `origin` connects, false when refused. */
function handshake(url: string, token: string, origin?: string, transport: 'websocket' | 'polling' = 'websocket'): Promise<boolean> {
  const socket = io(url, {
    auth: { token },
    transports: [transport],
    reconnection: false,
    forceNew: true,
    extraHeaders: origin ? { origin } : {},
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('neither connect nor connect_error within 5 s')), 5000);
    socket.once('connect', () => (clearTimeout(timer), socket.close(), resolve(true)));
    socket.once('connect_error', () => (clearTimeout(timer), socket.close(), resolve(false)));
  });
}

describe('gateway: origins (CORS_ORIGINS) and development mode', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let dev: RunningGateway;
  let bus: TestBus;

  beforeAll(async () => {
    bus = await TestBus.open(ns);
    gw = await startTestGateway(ns, { CORS_ORIGINS: `${FRIEND}, https://other.example.org` });
    // Development: no JWT_SECRET (the public one), dev tokens on.
    dev = await startTestGateway(ns, { NODE_ENV: 'development', JWT_SECRET: '', HOST: '', CORS_ORIGINS: FRIEND });
  });

  afterAll(async () => {
    await gw?.close();
    await dev?.close();
    await bus?.cleanup();
  });

  it('accepts a Socket.IO handshake without Origin, from its own origin and from CORS_ORIGINS; refuses any other', async () => {
    const token = await tokenFor('origin-user');
    const own = `http://127.0.0.1:${gw.port}`;
    expect(await handshake(gw.url, token)).toBe(true);
    expect(await handshake(gw.url, token, own)).toBe(true);
    expect(await handshake(gw.url, token, FRIEND)).toBe(true);
    expect(await handshake(gw.url, token, EVIL)).toBe(false);
    expect(await handshake(gw.url, token, EVIL, 'polling')).toBe(false);
    expect(await handshake(gw.url, token, 'null')).toBe(false);
  });

  it('answers HTTP from other origins with 403 FORBIDDEN and no CORS grant, and grants the listed ones', async () => {
    const evil = await fetch(`${gw.url}/v1/dev/config`, { headers: { origin: EVIL } });
    expect(evil.status).toBe(403);
    expect((await evil.json()).error.code).toBe('FORBIDDEN');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();

    const preflight = await fetch(`${gw.url}/v1/conversations`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(403);

    const friend = await fetch(`${gw.url}/v1/dev/config`, { headers: { origin: FRIEND } });
    expect(friend.status).toBe(200);
    expect(friend.headers.get('access-control-allow-origin')).toBe(FRIEND);
    const friendPreflight = await fetch(`${gw.url}/v1/conversations`, {
      method: 'OPTIONS',
      headers: { origin: FRIEND, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(friendPreflight.status).toBe(204);
    expect(friendPreflight.headers.get('access-control-allow-origin')).toBe(FRIEND);

    const plain = await fetch(`${gw.url}/v1/dev/config`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('in development: listens on loopback, signs dev tokens without a role, only for its own page', async () => {
    expect((dev.app.getHttpServer().address() as AddressInfo).address).toBe('127.0.0.1');
    expect((gw.app.getHttpServer().address() as AddressInfo).address).toBe('0.0.0.0');
    const sign = (origin?: string, body: object = { userId: 'dev user' }) =>
      fetch(`${dev.url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: JSON.stringify(body),
      });

    const own = await sign(`http://127.0.0.1:${dev.port}`);
    expect(own.status).toBe(200);
    const { token } = await own.json();
    expect(decodeJwt(token)).toMatchObject({ sub: 'dev user' });
    expect(decodeJwt(token)).not.toHaveProperty('role');

    expect((await sign()).status).toBe(200);
    expect((await sign(EVIL)).status).toBe(403);
    // CORS_ORIGINS may call the API, but no other site signs its visitors in.
    const friend = await sign(FRIEND);
    expect(friend.status).toBe(403);
    expect((await friend.json()).error.code).toBe('FORBIDDEN');
    // Asking for a role changes nothing: the body is strict.
    expect((await sign(undefined, { userId: 'x', role: 'admin' })).status).toBe(400);
    // A user id that is not well-formed Unicode is refused.
    expect((await sign(undefined, { userId: 'x\uD800' })).status).toBe(400);
  });
});
