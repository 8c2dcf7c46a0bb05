import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import {
  closeAll,
  connectClient,
  connectError,
  randomNamespace,
  startTestGateway,
  TEST_SECRET,
  TestBus,
  tokenFor,
} from '../../support/gateway-harness';
import { waitFor } from '../../support/polling';

const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowSec = () => Math.floor(Date.now() / 1000);
const sign = (payload: Record<string, unknown>, secret = TEST_SECRET) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

describe('gateway: socket authentication and session', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;

  beforeAll(async () => {
    gw = await startTestGateway(ns);
    bus = await TestBus.open(ns);
  });

  afterAll(async () => {
    await gw?.close();
    await bus?.cleanup();
  });

  const refused: Array<[string, () => Promise<{ auth?: object; query?: Record<string, string> }>]> = [
    ['no token', async () => ({})],
    ['an empty token', async () => ({ auth: { token: '' } })],
    ['a non-string token', async () => ({ auth: { token: { nested: true } } })],
    ['garbage', async () => ({ auth: { token: 'not-a-jwt' } })],
    ['an expired token', async () => ({ auth: { token: await sign({ sub: 'alice', iat: nowSec() - 600, exp: nowSec() - 60 }) } })],
    ['a token without iat', async () => ({ auth: { token: await sign({ sub: 'alice', exp: nowSec() + 600 }) } })],
    [
      'a token valid for 100 years',
      async () => ({ auth: { token: await sign({ sub: 'alice', iat: nowSec(), exp: nowSec() + 100 * 365 * 86_400 }) } }),
    ],
    ['a sub with a lone surrogate', async () => ({ auth: { token: await sign({ sub: 'x\uD800', iat: nowSec(), exp: nowSec() + 600 }) } })],
    [
      'a sub with a control character',
      async () => ({ auth: { token: await sign({ sub: 'x\u0000', iat: nowSec(), exp: nowSec() + 600 }) } }),
    ],
    ['a token without exp', async () => ({ auth: { token: await sign({ sub: 'alice' }) } })],
    [
      'a forged token (other secret)',
      async () => ({ auth: { token: await sign({ sub: 'alice', exp: nowSec() + 600 }, 'forged-secret-0123456789-0123456789') } }),
    ],
    ['alg none', async () => ({ auth: { token: `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'alice', exp: nowSec() + 600 })}.` } })],
    ['an over-long sub', async () => ({ auth: { token: await sign({ sub: 'x'.repeat(129), exp: nowSec() + 600 }) } })],
    ['a bad ?token=', async () => ({ query: { token: 'garbage' } })],
  ];

  it.each(refused)('refuses %s with connect_error UNAUTHORIZED', async (_label, handshake) => {
    const err = await connectError(gw.url, await handshake());
    expect(err.message).toBe('unauthorized');
    expect(err.data?.code).toBe('UNAUTHORIZED');
    expect(typeof err.data?.message).toBe('string');
  });

  it('refuses over the polling transport too', async () => {
    const err = await connectError(gw.url, { auth: { token: 'nope' }, transports: ['polling'] });
    expect(err.message).toBe('unauthorized');
    expect(err.data?.code).toBe('UNAUTHORIZED');
  });

  it('accepts auth.token and announces session:ready with the user, time and instance', async () => {
    const before = Date.now();
    const client = await connectClient(gw.url, await tokenFor('alice'));
    expect(client.ready.userId).toBe('alice');
    expect(client.ready.instanceId).toMatch(/^gw-/);
    expect(Date.parse(client.ready.serverTime)).toBeGreaterThanOrEqual(before - 1000);
    closeAll(client);
  });

  it('accepts ?token= (websocket and polling)', async () => {
    const token = await tokenFor('query user');
    const ws = await connectClient(gw.url, token, { viaQuery: true });
    const polling = await connectClient(gw.url, token, { viaQuery: true, transports: ['polling'] });
    expect(ws.ready.userId).toBe('query user');
    expect(polling.ready.userId).toBe('query user');
    closeAll(ws, polling);
  });

  it('prefers auth.token over ?token=', async () => {
    const socket = io(gw.url, {
      auth: { token: await tokenFor('from-auth') },
      query: { token: await tokenFor('from-query') },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const ready = await new Promise<{ userId: string }>((resolve) => socket.once('session:ready', resolve));
    expect(ready.userId).toBe('from-auth');
    socket.close();
    const err = await connectError(gw.url, { auth: { token: 'garbage' }, query: { token: await tokenFor('from-query') } });
    expect(err.data?.code).toBe('UNAUTHORIZED');
  });

  it('emits session:expired when the token expires, then disconnects', async () => {
    const exp = nowSec() + 2;
    const client = await connectClient(gw.url, await sign({ sub: 'short-lived', iat: nowSec(), exp }));
    const expired = new Promise<{ reason: string }>((resolve) => client.socket.once('session:expired', resolve));
    const disconnected = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
    await expect(expired).resolves.toEqual({ reason: 'token_expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
    await expect(disconnected).resolves.toBe('io server disconnect');
    closeAll(client);
  });

  it('keeps serving other connections while one expires', async () => {
    const longLived = await connectClient(gw.url, await tokenFor('long-lived'));
    const shortLived = await connectClient(gw.url, await sign({ sub: 'long-lived', iat: nowSec(), exp: nowSec() + 1 }));
    await waitFor(() => !shortLived.socket.connected, 'short-lived socket to be closed', 4000);
    const scope = { userId: 'long-lived', conversationId: 'c1', runId: 'r1' };
    const id = await bus.status(scope);
    await waitFor(() => longLived.events.some((e) => e.id === id), 'event on the remaining socket', 3000);
    closeAll(longLived, shortLived);
  });
});

describe('gateway: graceful shutdown', () => {
  it('closes connections with "transport close", so that clients reconnect (elsewhere)', async () => {
    const ns = randomNamespace();
    const gw = await startTestGateway(ns);
    const bus = await TestBus.open(ns);
    try {
      const client = await connectClient(gw.url, await tokenFor('leaving'));
      const reason = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
      await gw.close();
      // "transport close" is a reason socket.io-client reconnects after (unlike "io server disconnect").
      await expect(reason).resolves.toBe('transport close');
      closeAll(client);
    } finally {
      await bus.cleanup();
    }
  });
});
