import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { Cluster, CLUSTER_JWT_SECRET } from '../support/cluster';
import { setTimeout as sleep } from 'node:timers/promises';

/** A raw socket.io-client socket, for payloads the typed client would never send. */
function rawSocket(url: string, auth: Record<string, unknown> | undefined, query?: Record<string, string>): Socket {
  return io(url, { transports: ['websocket'], auth, query, reconnection: false, forceNew: true });
}

function connected(socket: Socket): Promise<{ userId: string }> {
  return new Promise((resolve, reject) => {
    socket.once('session:ready', resolve);
    socket.once('connect_error', reject);
  });
}

function refused(socket: Socket): Promise<{ message: string; data?: { code: string } }> {
  return new Promise((resolve, reject) => {
    socket.once('connect_error', (err) => resolve(err as never));
    socket.once('session:ready', () => reject(new Error('connected')));
  });
}

function ack<T = any>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

describe('edges: auth, bad input, limits (real processes)', () => {
  let cluster: Cluster;
  const sockets: Socket[] = [];
  const open = (url: string, auth?: Record<string, unknown>, query?: Record<string, string>) => {
    const s = rawSocket(url, auth, query);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: { RATE_LIMIT_PER_MINUTE: '5', MAX_MESSAGE_CHARS: '200' } });
  }, 60_000);

  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    await cluster?.stop();
  }, 30_000);

  describe('handshake', () => {
    it('refuses missing, garbage, forged, expired and alg:none tokens with UNAUTHORIZED', async () => {
      const url = cluster.gatewayUrl(0);
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('x')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('not-the-secret-not-the-secret-0000'));
      const secret = new TextEncoder().encode(CLUSTER_JWT_SECRET);
      const expired = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('x')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(secret);
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}.`;
      for (const auth of [undefined, { token: 'garbage' }, { token: forged }, { token: expired }, { token: none }, { token: 42 }]) {
        const err = await refused(open(url, auth));
        expect(err.message).toBe('unauthorized');
        expect(err.data?.code).toBe('UNAUTHORIZED');
      }
    });

    it('accepts the token as a query parameter and says session:ready', async () => {
      const token = await cluster.token('query-user');
      const ready = await connected(open(cluster.gatewayUrl(1), undefined, { token }));
      expect(ready).toMatchObject({ userId: 'query-user', serverTime: expect.any(String), instanceId: expect.any(String) });
    });

    it('never logs a ?token= query token, accepted or refused, on socket or SSE (even at LOG_LEVEL=trace)', async () => {
      const verbose = await cluster.startService('gateway', { LOG_LEVEL: 'trace' });
      await cluster.waitReady(verbose);
      try {
        const token = await cluster.token('logged-user');
        const garbage = `not-a-jwt-${randomUUID()}`;
        for (const url of [cluster.gatewayUrl(0), verbose.url]) {
          const socket = open(url, undefined, { token });
          await connected(socket);
          socket.disconnect();
          expect((await refused(open(url, undefined, { token: garbage }))).data?.code).toBe('UNAUTHORIZED');
          const sse = new AbortController();
          const res = await fetch(`${url}/v1/events?token=${encodeURIComponent(token)}`, { signal: sse.signal });
          expect(res.status).toBe(200);
          sse.abort();
          expect((await fetch(`${url}/v1/events?token=${garbage}`)).status).toBe(401);
        }
        await sleep(500); // the logs reach their files through pipes
        const logs = readdirSync(cluster.logDir)
          .filter((f) => f.endsWith('.log'))
          .map((f) => readFileSync(join(cluster.logDir, f), 'utf8'))
          .join('\n');
        expect(logs).toMatch(/socket handshake refused/); // what the test did was logged, without the token
        const signature = token.split('.')[2];
        expect(logs).not.toContain(signature);
        expect(logs).not.toContain(garbage);
      } finally {
        await cluster.kill(verbose);
      }
    }, 40_000);

    it('expires the session with session:expired when the token runs out', async () => {
      const token = await cluster.token('short-lived', 2);
      const socket = open(cluster.gatewayUrl(0), { token });
      await connected(socket);
      const expired = new Promise((r) => socket.once('session:expired', r));
      const closed = new Promise((r) => socket.once('disconnect', r));
      await expect(expired).resolves.toBeTruthy();
      await expect(closed).resolves.toBe('io server disconnect');
    }, 15_000);
  });

  describe('chat:send bad input: a clear code, nothing stored, the connection stays up', () => {
    let socket: Socket;
    beforeAll(async () => {
      socket = open(cluster.gatewayUrl(0), { token: await cluster.token('validator') });
      await connected(socket);
    });

    it.each([
      ['a string', 'hello'],
      ['a number', 7],
      ['null', null],
      ['missing content', { conversationId: 'new' }],
      ['wrong-typed content', { conversationId: 'new', content: ['x'] }],
      ['whitespace content', { conversationId: 'new', content: '   ' }],
      ['content over MAX_MESSAGE_CHARS', { conversationId: 'new', content: 'x'.repeat(201) }],
      ['a non-UUID conversation', { conversationId: 'not-a-uuid', content: 'x' }],
      ['an unknown option value', { conversationId: 'new', content: 'x', options: { onBusy: 'sometimes' } }],
      ['an over-long clientMessageId', { conversationId: 'new', content: 'x', clientMessageId: 'k'.repeat(65) }],
      ['a __proto__ key', JSON.parse('{"conversationId":"new","content":"x","__proto__":{"admin":true}}')],
    ])('%s → INVALID_INPUT', async (_name, payload) => {
      const res = await ack(socket, 'chat:send', payload);
      expect(res).toEqual({ ok: false, error: { code: 'INVALID_INPUT', message: expect.any(String) } });
      expect(socket.connected).toBe(true);
    });

    it('an unknown conversation → NOT_FOUND', async () => {
      const res = await ack(socket, 'chat:send', { conversationId: randomUUID(), content: 'x' });
      expect(res.error.code).toBe('NOT_FOUND');
    });

    it('unknown events with a callback get INVALID_INPUT; events without a callback are still processed', async () => {
      const res = await ack(socket, 'chat:shout', { content: 'x' });
      expect(res.error.code).toBe('INVALID_INPUT');
      socket.emit('chat:send', 'no callback, malformed');
      const events: string[] = [];
      socket.on('agent:event', (e) => events.push(e.type));
      socket.emit('chat:send', { conversationId: 'new', content: 'Hi, no callback here' });
      for (let i = 0; i < 100 && !events.includes('orchestration_completed'); i++) await sleep(100);
      expect(events).toContain('orchestration_completed');
      expect(socket.connected).toBe(true);
    });

    it('stored nothing for the refused messages', async () => {
      const res = await cluster.http('/v1/conversations', { userId: 'validator' });
      const { conversations } = await res.json();
      expect(conversations).toHaveLength(1); // only the valid "no callback" message
    });

    it('a frame over maxHttpBufferSize closes that connection only', async () => {
      const other = open(cluster.gatewayUrl(0), { token: await cluster.token('validator') });
      await connected(other);
      const big = open(cluster.gatewayUrl(0), { token: await cluster.token('validator') });
      await connected(big);
      const closed = new Promise((r) => big.once('disconnect', r));
      big.emit('chat:send', { conversationId: 'new', content: 'x'.repeat(70 * 1024) });
      await expect(closed).resolves.toBeTruthy();
      expect(other.connected).toBe(true);
      const res = await ack(other, 'run:cancel', { runId: randomUUID() });
      expect(res.error.code).toBe('NOT_FOUND');
    });
  });

  describe('user ids are data', () => {
    it.each(['*', '>', 'a.b c'])('user %p gets its own events only', async (userId) => {
      const mine = await cluster.client(userId, 0);
      const neighbour = await cluster.client(`${userId}x`, 1);
      const leaked: unknown[] = [];
      neighbour.onEvent((e) => leaked.push(e));
      const handle = await mine.ask('Hello!');
      const events = await handle.done();
      expect(events.at(-1)!.type).toBe('orchestration_completed');
      expect(leaked).toEqual([]);
    });
  });

  describe('limits across gateways', () => {
    it('rate-limits a user across both gateways with RATE_LIMITED and retryAfterMs', async () => {
      const a = await cluster.client('chatty', 0);
      const b = await cluster.client('chatty', 1);
      const results = [];
      for (let i = 0; i < 6; i++) {
        const client = i % 2 ? b : a;
        results.push(
          await client.send(`Hello ${i}`).then(
            () => 'ok',
            (e) => e.error,
          ),
        );
      }
      expect(results.slice(0, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      expect(results[5]).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
      expect(results[5].retryAfterMs).toBeGreaterThan(0);
      expect(results[5].retryAfterMs).toBeLessThanOrEqual(60_000);
      // Another user is not affected.
      const other = await cluster.client('quiet', 1);
      await expect(other.send('Hello')).resolves.toMatchObject({ runId: expect.any(String) });
      // HTTP shares the limiter: 429 with Retry-After.
      const res = await cluster.http('/v1/conversations/new/messages', {
        userId: 'chatty',
        method: 'POST',
        body: JSON.stringify({ content: 'x' }),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('starts one run for a clientMessageId sent to two gateways at once', async () => {
      const a = await cluster.client('twice', 0);
      const b = await cluster.client('twice', 1);
      const [x, y] = await Promise.all([
        a.send('Hello once', { clientMessageId: 'dup-1' }),
        b.send('Hello once', { clientMessageId: 'dup-1' }),
      ]);
      expect(x.runId).toBe(y.runId);
      expect(x.conversationId).toBe(y.conversationId);
      const again = await a.send('Hello once', { clientMessageId: 'dup-1' });
      expect(again.runId).toBe(x.runId);
      await sleep(1500);
      const { conversations } = await (await cluster.http('/v1/conversations', { userId: 'twice' })).json();
      expect(conversations).toHaveLength(1);
    });
  });

  describe('HTTP edges', () => {
    it('401 without or with a bad bearer token', async () => {
      expect((await cluster.http('/v1/conversations')).status).toBe(401);
      const bad = await cluster.http('/v1/conversations', { headers: { authorization: 'Bearer nope' } });
      expect(bad.status).toBe(401);
      expect(await bad.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    });

    it('400 INVALID_INPUT for a malformed body', async () => {
      const res = await cluster.http('/v1/conversations/new/messages', { userId: 'http-user', method: 'POST', body: '{"content": ' });
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('INVALID_INPUT');
      const empty = await cluster.http('/v1/conversations/new/messages', {
        userId: 'http-user',
        method: 'POST',
        body: JSON.stringify({ content: ' ' }),
      });
      expect(empty.status).toBe(400);
    });

    it('serves health and the web page on the public port, metrics on METRICS_PORT only', async () => {
      expect((await cluster.http('/health/live')).status).toBe(200);
      const ready = await cluster.http('/health/ready');
      expect(ready.status).toBe(200);
      expect((await cluster.http('/metrics')).status).toBe(404);
      const metrics = await (await fetch(cluster.gateways[0].metricsUrl)).text();
      expect(metrics).toMatch(/process_cpu_seconds_total/);
      const page = await cluster.http('/');
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    });
  });

  describe('a backing service down', () => {
    it('answers UNAVAILABLE, accepting nothing, when Redis is unreachable', async () => {
      const gw = await cluster.startService('gateway', { REDIS_URL: 'redis://127.0.0.1:1' });
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        try {
          await fetch(`${gw.url}/health/live`);
          break;
        } catch {
          await sleep(100);
        }
      }
      const ready = await fetch(`${gw.url}/health/ready`);
      expect(ready.status).toBe(503);
      const socket = open(gw.url!, { token: await cluster.token('stranded') });
      await connected(socket);
      const res = await ack(socket, 'chat:send', { conversationId: 'new', content: 'hello?' });
      expect(res).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: expect.any(String) } });
      const { conversations } = await (await cluster.http('/v1/conversations', { userId: 'stranded' })).json();
      expect(conversations).toEqual([]);
    }, 30_000);
  });
});
