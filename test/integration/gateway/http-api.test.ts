import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import type { PersistenceHarness } from '../../support/persistence-harness';
import { connectClient, randomNamespace, startTestGateway, TEST_SECRET, TestBus, tokenFor } from '../../support/gateway-harness';
import { waitFor } from '../../support/polling';
import { MESSAGES_PAGE_MAX_BYTES } from '../../../apps/persistence/src/conversations/conversation-queries.service';

describe('gateway: HTTP API (PROTOCOL.md §6)', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let auth: { authorization: string };

  const get = (path: string, headers: Record<string, string> = auth) => fetch(`${gw.url}${path}`, { headers });
  const post = (
    path: string,
    body: string | undefined,
    headers: Record<string, string> = { ...auth, 'content-type': 'application/json' },
  ) => fetch(`${gw.url}${path}`, { method: 'POST', headers, body });
  const expectError = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = await res.json();
    expect(body).toEqual({ error: { code, message: expect.any(String) } });
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
    return body;
  };

  beforeAll(async () => {
    gw = await startTestGateway(ns, { MAX_MESSAGE_CHARS: '50', DEV_TOKENS: 'true' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
    auth = { authorization: `Bearer ${await tokenFor('http-user')}` };
  });

  afterAll(async () => {
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  describe('authentication', () => {
    const expired = () =>
      new SignJWT({ sub: 'http-user', iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 60 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(TEST_SECRET));

    it.each([
      ['no Authorization header', async () => ({})],
      ['a non-Bearer scheme', async () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
      ['a garbage token', async () => ({ authorization: 'Bearer garbage' })],
      ['an expired token', async () => ({ authorization: `Bearer ${await expired()}` })],
      [
        'a token from another secret',
        async () => ({
          authorization: `Bearer ${await new SignJWT({ sub: 'x', exp: 9999999999 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('another-secret-0123456789-abcdefghij'))}`,
        }),
      ],
    ])('answers 401 UNAUTHORIZED for %s', async (_label, headers) => {
      const res = await get('/v1/conversations', await headers());
      await expectError(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('checks the token before anything else', async () => {
      await expectError(
        await post('/v1/conversations/new/messages', '{bad json', { 'content-type': 'application/json' }),
        400,
        'INVALID_INPUT',
      );
      await expectError(
        await post('/v1/conversations/new/messages', '{"content":"hi"}', { 'content-type': 'application/json' }),
        401,
        'UNAUTHORIZED',
      );
      await expectError(await get('/v1/runs/not-a-uuid', {}), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /v1/conversations/:id/messages', () => {
    it('answers 202 with the chat:send ack minus ok', async () => {
      const res = await post('/v1/conversations/new/messages', JSON.stringify({ content: 'Hello over HTTP', options: { stream: true } }));
      expect(res.status).toBe(202);
      const body = await res.json();
      expect(Object.keys(body).sort()).toEqual(['conversationId', 'messageId', 'runId', 'userMessageId']);
      expect((await persistence.runsOf('http-user')).at(-1)).toMatchObject({
        conversationId: body.conversationId,
        content: 'Hello over HTTP',
        runId: body.runId,
      });
    });

    it("takes the conversation from the URL (one of the user's)", async () => {
      const conversationId = await persistence.addConversation('http-user');
      const res = await post(`/v1/conversations/${conversationId}/messages`, JSON.stringify({ content: 'again', conversationId }));
      expect(res.status).toBe(202);
      expect((await res.json()).conversationId).toBe(conversationId);
    });

    it('answers 400 INVALID_INPUT for malformed JSON, wrong content type and invalid bodies', async () => {
      await expectError(await post('/v1/conversations/new/messages', '{"content": "x",'), 400, 'INVALID_INPUT');
      await expectError(
        await post('/v1/conversations/new/messages', 'content=x', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }),
        400,
        'INVALID_INPUT',
      );
      await expectError(
        await post('/v1/conversations/new/messages', 'hello', { ...auth, 'content-type': 'text/plain' }),
        400,
        'INVALID_INPUT',
      );
      await expectError(await post('/v1/conversations/new/messages', undefined, auth), 400, 'INVALID_INPUT');
      await expectError(await post('/v1/conversations/new/messages', '"a string"'), 400, 'INVALID_INPUT');
      await expectError(await post('/v1/conversations/new/messages', '[1,2]'), 400, 'INVALID_INPUT');
      await expectError(await post('/v1/conversations/new/messages', JSON.stringify({ content: '   ' })), 400, 'INVALID_INPUT');
      await expectError(await post('/v1/conversations/new/messages', JSON.stringify({ content: 'x'.repeat(51) })), 400, 'INVALID_INPUT');
      await expectError(
        await post('/v1/conversations/new/messages', JSON.stringify({ content: 'x', options: { onBusy: 'never' } })),
        400,
        'INVALID_INPUT',
      );
      await expectError(await post('/v1/conversations/new/messages', '{"content":"x","__proto__":{"admin":true}}'), 400, 'INVALID_INPUT');
      await expectError(
        await post('/v1/conversations/new/messages', JSON.stringify({ content: 'x', conversationId: randomUUID() })),
        400,
        'INVALID_INPUT',
      );
    });

    it('answers 413 for a body over 64 KiB', async () => {
      await expectError(
        await post('/v1/conversations/new/messages', JSON.stringify({ content: 'x'.repeat(70 * 1024) })),
        413,
        'INVALID_INPUT',
      );
    });

    it("answers 404 NOT_FOUND for a non-UUID id, an unknown conversation and another user's", async () => {
      await expectError(await post('/v1/conversations/nope/messages', JSON.stringify({ content: 'x' })), 404, 'NOT_FOUND');
      await expectError(await post(`/v1/conversations/${randomUUID()}/messages`, JSON.stringify({ content: 'x' })), 404, 'NOT_FOUND');
      const foreign = await persistence.addConversation('someone-else');
      await expectError(await post(`/v1/conversations/${foreign}/messages`, JSON.stringify({ content: 'x' })), 404, 'NOT_FOUND');
    });

    it('answers 409 RUN_IN_PROGRESS for onBusy: reject', async () => {
      const first = await (await post('/v1/conversations/new/messages', JSON.stringify({ content: 'one' }))).json();
      const res = await post(
        `/v1/conversations/${first.conversationId}/messages`,
        JSON.stringify({ content: 'two', options: { onBusy: 'reject' } }),
      );
      await expectError(res, 409, 'RUN_IN_PROGRESS');
    });
  });

  describe('GET /v1/conversations and messages', () => {
    it("lists the user's conversations, newest first, with limit", async () => {
      const res = await get('/v1/conversations?limit=2');
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.conversations).toHaveLength(2);
      expect(body).toHaveProperty('nextBefore');
      const owners = await persistence.rows<{ user_id: string }>('SELECT user_id FROM conversations WHERE id = ANY($1)', [
        body.conversations.map((c: { id: string }) => c.id),
      ]);
      expect(owners.map((o) => o.user_id)).toEqual(['http-user', 'http-user']);
    });

    it.each(['0', '101', 'abc', '1.5'])('answers 400 for limit=%s', async (limit) => {
      await expectError(await get(`/v1/conversations?limit=${limit}`), 400, 'INVALID_INPUT');
    });

    it("returns a conversation's messages, and 404 for a non-UUID, unknown or foreign id", async () => {
      const conversationId = await persistence.addConversation('http-user');
      const id = randomUUID();
      const message = {
        id,
        conversationId,
        runId: null,
        role: 'user' as const,
        content: 'hi',
        metadata: null,
        createdAt: new Date().toISOString(),
        parentId: null,
        siblingIds: [id],
      };
      await persistence.addMessages(conversationId, [message]);
      const res = await get(`/v1/conversations/${conversationId}/messages`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ messages: [message], nextBefore: null });
      await expectError(await get('/v1/conversations/not-a-uuid/messages'), 404, 'NOT_FOUND');
      await expectError(await get(`/v1/conversations/${randomUUID()}/messages`), 404, 'NOT_FOUND');
      await expectError(await get(`/v1/conversations/${await persistence.addConversation('other')}/messages`), 404, 'NOT_FOUND');
    });
  });

  describe('GET /v1/conversations/:id/messages paging', () => {
    /** A conversation of `count` stored messages of the user, oldest first. */
    const conversationOf = async (count: number, userId = 'http-user', content = (i: number) => `message ${i}`) => {
      const conversationId = await persistence.addConversation(userId);
      const ids = Array.from({ length: count }, () => randomUUID());
      const messages = ids.map((id, i) => ({
        id,
        conversationId,
        runId: null,
        role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: content(i),
        metadata: null,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        parentId: ids[i - 1] ?? null,
        siblingIds: [id],
      }));
      await persistence.addMessages(conversationId, messages);
      return { conversationId, ids: messages.map((m) => m.id) };
    };
    const page = async (path: string) => {
      const res = await get(path);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { messages: Array<{ id: string }>; nextBefore: string | null };
      return { ids: body.messages.map((m) => m.id), nextBefore: body.nextBefore };
    };

    it('answers the newest 50 by default, oldest first, and nextBefore leads to the older pages', async () => {
      const { conversationId, ids } = await conversationOf(120);
      const base = `/v1/conversations/${conversationId}/messages`;
      expect(await page(base)).toEqual({ ids: ids.slice(70), nextBefore: ids[70] });
      expect(await page(`${base}?before=${ids[70]}`)).toEqual({ ids: ids.slice(20, 70), nextBefore: ids[20] });
      expect(await page(`${base}?before=${ids[20].toUpperCase()}&limit=50`)).toEqual({ ids: ids.slice(0, 20), nextBefore: null });
      expect(await page(`${base}?limit=200`)).toEqual({ ids, nextBefore: null });
      expect(await page(`${base}?limit=1&before=${ids[1]}`)).toEqual({ ids: ids.slice(0, 1), nextBefore: null });
    });

    it('fills the page asked for when persistence answers in smaller pieces (its replies are bounded in bytes)', async () => {
      // Seven of these fit in one reply of persistence's (MESSAGES_PAGE_MAX_BYTES), an eighth does not.
      const size = Math.floor(MESSAGES_PAGE_MAX_BYTES / 7);
      const { conversationId, ids } = await conversationOf(30, 'http-user', (i) => `${i} `.padEnd(size, 'x'));
      expect(await page(`/v1/conversations/${conversationId}/messages?limit=25`)).toEqual({ ids: ids.slice(5), nextBefore: ids[5] });
      expect(await page(`/v1/conversations/${conversationId}/messages?limit=25&before=${ids[5]}`)).toEqual({
        ids: ids.slice(0, 5),
        nextBefore: null,
      });
    });

    it.each(['0', '201', 'abc', '1.5', '-3'])('answers 400 INVALID_INPUT for limit=%s', async (limit) => {
      const { conversationId } = await conversationOf(1);
      await expectError(await get(`/v1/conversations/${conversationId}/messages?limit=${limit}`), 400, 'INVALID_INPUT');
    });

    it('answers 400 for a before that is not a message id, and 404 for one of another conversation or none', async () => {
      const { conversationId } = await conversationOf(3);
      const other = await conversationOf(2);
      const foreign = await conversationOf(2, 'someone-else');
      const base = `/v1/conversations/${conversationId}/messages`;
      await expectError(await get(`${base}?before=nope`), 400, 'INVALID_INPUT');
      await expectError(await get(`${base}?before=${other.ids[0]}`), 404, 'NOT_FOUND');
      await expectError(await get(`${base}?before=${randomUUID()}`), 404, 'NOT_FOUND');
      await expectError(await get(`/v1/conversations/${foreign.conversationId}/messages?before=${foreign.ids[1]}`), 404, 'NOT_FOUND');
    });
  });

  describe('runs', () => {
    it('serves the snapshot with an ETag, 304 on If-None-Match, a new ETag when it changes', async () => {
      const runId = await persistence.addRun('http-user', 'running');
      const first = await get(`/v1/runs/${runId}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-control')).toBe('no-cache');
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(await first.json()).toMatchObject({ runId, status: 'running', progress: 0, lastEventId: null });

      const unchanged = await get(`/v1/runs/${runId}`, { ...auth, 'if-none-match': etag });
      expect(unchanged.status).toBe(304);
      expect(await unchanged.text()).toBe('');
      expect(unchanged.headers.get('etag')).toBe(etag);
      expect((await get(`/v1/runs/${runId}`, { ...auth, 'if-none-match': `W/${etag}` })).status).toBe(304);

      await persistence.setRunStatus(runId, 'completed', 1);
      const changed = await get(`/v1/runs/${runId}`, { ...auth, 'if-none-match': etag });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect(await changed.json()).toMatchObject({ status: 'completed', progress: 1 });
    });

    it('answers 404 for a non-UUID, unknown or foreign run', async () => {
      await expectError(await get('/v1/runs/123'), 404, 'NOT_FOUND');
      await expectError(await get(`/v1/runs/${randomUUID()}`), 404, 'NOT_FOUND');
      await expectError(await get(`/v1/runs/${await persistence.addRun('other', 'running')}`), 404, 'NOT_FOUND');
    });

    it('cancels (202), reports an already finished run (200) and refuses foreign runs (404)', async () => {
      const active = await persistence.addRun('http-user', 'running');
      const cancel = await post(`/v1/runs/${active}/cancel`, undefined, auth);
      expect(cancel.status).toBe(202);
      expect(await cancel.json()).toEqual({});
      const finished = await post(`/v1/runs/${await persistence.addRun('http-user', 'completed')}/cancel`, undefined, auth);
      expect(finished.status).toBe(200);
      expect(await finished.json()).toEqual({ alreadyFinished: true });
      await expectError(await post(`/v1/runs/${await persistence.addRun('other', 'running')}/cancel`, undefined, auth), 404, 'NOT_FOUND');
    });

    it('forwards a response (202) and validates it (400)', async () => {
      const runId = await persistence.addRun('http-user', 'waiting');
      const ok = await post(`/v1/runs/${runId}/respond`, JSON.stringify({ requestId: 'q1', response: { approved: false } }));
      expect(ok.status).toBe(202);
      await expectError(await post(`/v1/runs/${runId}/respond`, JSON.stringify({ requestId: 'q1' })), 400, 'INVALID_INPUT');
      await expectError(await post(`/v1/runs/${runId}/respond`, '{nope'), 400, 'INVALID_INPUT');
    });
  });

  describe('operations and the web client', () => {
    it('reports liveness and readiness per dependency', async () => {
      const live = await fetch(`${gw.url}/health/live`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${gw.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        checks: { nats: { ok: true }, redis: { ok: true }, postgres: { ok: true } },
      });
    });

    it('is not ready without persistence', async () => {
      const ns2 = randomNamespace();
      const lonely = await startTestGateway(ns2);
      const bus2 = await TestBus.open(ns2);
      try {
        const ready = await fetch(`${lonely.url}/health/ready`);
        expect(ready.status).toBe(503);
        const body = await ready.json();
        expect(body).toMatchObject({
          status: 'unavailable',
          checks: { nats: { ok: true }, redis: { ok: true }, postgres: { ok: false } },
        });
        // Status only: no error text, no versions, nothing about the deployment.
        expect(body.checks.postgres).toEqual({ ok: false });
        expect(JSON.stringify(body)).not.toMatch(/error|timed out|no answer|version/i);
      } finally {
        await lonely.close();
        await bus2.cleanup();
      }
    });

    it('exposes Prometheus metrics, gateway ones included', async () => {
      const client = await connectClient(gw.url, await tokenFor('metered'));
      const id = await bus.status({ userId: 'metered', conversationId: 'c', runId: 'r' });
      await waitFor(() => client.events.some((e) => e.id === id), 'the event delivered', 3000);
      const res = await fetch(gw.metricsUrl);
      expect(res.status).toBe(200);
      expect(new URL(gw.metricsUrl).port).not.toBe(String(gw.port));
      expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/^herald_gateway_connected_sockets 1$/m);
      expect(text).toMatch(/^herald_gateway_subscribed_users 1$/m);
      expect(text).toMatch(/^herald_gateway_events_relayed_total\{type="status"\} 1$/m);
      expect(text).toMatch(/^herald_gateway_chat_send_total\{outcome="accepted"\} \d+$/m);
      expect(text).toMatch(/^herald_gateway_chat_send_total\{outcome="invalid_input"\} \d+$/m);
      expect(text).toMatch(/process_cpu_user_seconds_total/);
      client.socket.close();
    });

    it('issues dev tokens that the gateway accepts', async () => {
      const res = await fetch(`${gw.url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'a.b c' }),
      });
      expect(res.status).toBe(200);
      const { token } = await res.json();
      const client = await connectClient(gw.url, token);
      expect(client.ready.userId).toBe('a.b c');
      client.socket.close();
      const bad = await fetch(`${gw.url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: '' }),
      });
      await expectError(bad, 400, 'INVALID_INPUT');
    });

    it.each([
      ['DEV_TOKENS is off', { DEV_TOKENS: 'false' }],
      ['a real JWT_SECRET is set and DEV_TOKENS is not', {}],
    ])('has no dev tokens when %s', async (_case, env) => {
      const ns2 = randomNamespace();
      const strict = await startTestGateway(ns2, env);
      const bus2 = await TestBus.open(ns2);
      try {
        const res = await fetch(`${strict.url}/v1/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'x' }),
        });
        await expectError(res, 404, 'NOT_FOUND');
      } finally {
        await strict.close();
        await bus2.cleanup();
      }
    });

    it('serves the web client (one bundle with libs/client) and the Socket.IO client script', async () => {
      const page = await fetch(`${gw.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const html = await page.text();
      expect(html).toContain('src="app.js"');
      expect(html).toContain('href="app.css"');
      const script = await fetch(`${gw.url}/app.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect(await script.text()).toContain('chat:send');
      expect((await fetch(`${gw.url}/app.css`)).status).toBe(200);
      const socketIoClient = await fetch(`${gw.url}/socket.io/socket.io.js`);
      expect(socketIoClient.status).toBe(200);
      expect((await socketIoClient.text()).length).toBeGreaterThan(1000);
    });

    it('answers unknown routes with a JSON 404', async () => {
      await expectError(await fetch(`${gw.url}/v1/nothing-here`), 404, 'NOT_FOUND');
    });
  });
});
