import { SignJWT } from 'jose';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import { randomNamespace, startTestGateway, TEST_SECRET, TestBus, tokenFor } from '../../support/gateway-harness';
import { SseClient } from '../../support/sse-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/polling';

describe('gateway: GET /v1/events (Server-Sent Events)', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  const open: SseClient[] = [];
  const connect = async (query: string, headers: Record<string, string>) => {
    const client = await SseClient.open(`${gw.url}/v1/events${query}`, headers);
    open.push(client);
    return client;
  };
  const bearer = async (userId: string) => ({ authorization: `Bearer ${await tokenFor(userId)}` });

  /** Short, so that a heartbeat shows up within the test. */
  const HEARTBEAT_MS = 300;

  beforeAll(async () => {
    gw = await startTestGateway(ns, { SSE_HEARTBEAT_MS: String(HEARTBEAT_MS) });
    bus = await TestBus.open(ns);
  });

  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });

  afterAll(async () => {
    await gw?.close();
    await bus?.cleanup();
  });

  it('refuses a missing or bad token with 401', async () => {
    expect((await fetch(`${gw.url}/v1/events`)).status).toBe(401);
    expect((await fetch(`${gw.url}/v1/events?token=garbage`)).status).toBe(401);
    expect((await fetch(`${gw.url}/v1/events`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('refuses a malformed cursor with 400', async () => {
    const res = await fetch(`${gw.url}/v1/events?after=abc`, { headers: await bearer('x') });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('INVALID_INPUT');
    expect((await fetch(`${gw.url}/v1/events`, { headers: { ...(await bearer('x')), 'last-event-id': '-5' } })).status).toBe(400);
  });

  it('streams live events with id, event type and the envelope as data', async () => {
    const sse = await connect('', await bearer('sse-live'));
    expect(sse.response.status).toBe(200);
    expect(sse.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Behind proxies: nginx must not buffer it, nothing may cache it.
    expect(sse.response.headers.get('x-accel-buffering')).toBe('no');
    expect(sse.response.headers.get('cache-control')).toMatch(/^no-cache\b/);
    // The opening comment comes once live delivery is in place: everything published after it arrives.
    await waitFor(() => sse.comments.includes('connected'), 'the opening comment', 3000);
    const id = await bus.status({ userId: 'sse-live', conversationId: 'c', runId: 'r' }, 'live!');
    await bus.status({ userId: 'someone-else', conversationId: 'c', runId: 'r' });
    await waitFor(() => sse.events.length >= 1, 'an SSE event', 3000);
    await sleep(100);
    expect(sse.events).toEqual([
      { id, type: 'status', envelope: expect.objectContaining({ id, type: 'status', data: { step: 'test', message: 'live!' } }) },
    ]);
  });

  it('sends a comment heartbeat every SSE_HEARTBEAT_MS while nothing happens', async () => {
    const sse = await connect('', await bearer('sse-quiet'));
    await waitFor(() => sse.comments.includes('connected'), 'the opening comment', 3000);
    const openedAt = Date.now();
    await waitFor(() => sse.comments.filter((c) => c === 'keep-alive').length >= 2, 'two heartbeats', 3000);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(HEARTBEAT_MS); // paced, not a burst
    expect(sse.events).toEqual([]);
    expect(sse.ended).toBe(false);
  });

  it('accepts the token as ?token= (EventSource cannot set headers)', async () => {
    const sse = await connect(`?token=${encodeURIComponent(await tokenFor('sse-query'))}`, {});
    expect(sse.response.status).toBe(200);
  });

  it('replays after Last-Event-ID (preferred over ?after=), then goes live', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await bus.status({ userId: 'sse-replay', conversationId: `c${i % 2}`, runId: 'r' }));
    const sse = await connect('?after=0', { ...(await bearer('sse-replay')), 'last-event-id': ids[2] });
    await waitFor(() => sse.events.length === 3, 'replayed events', 3000);
    const live = await bus.status({ userId: 'sse-replay', conversationId: 'c0', runId: 'r' });
    await waitFor(() => sse.events.length === 4, 'the live event', 3000);
    expect(sse.events.map((e) => e.id)).toEqual([...ids.slice(3), live]);

    const fromAfter = await connect(`?after=${ids[4]}`, await bearer('sse-replay'));
    await waitFor(() => fromAfter.events.length === 2, 'events after ?after=', 3000);
    expect(fromAfter.events.map((e) => e.id)).toEqual([ids[5], live]);
  });

  it('goes from replay to live with no gap, no duplicate and no reordering', async () => {
    const userId = 'sse-busy';
    const published: string[] = [];
    for (let i = 0; i < 200; i++) published.push(await bus.status({ userId, conversationId: 'c', runId: 'r' }));
    const producer = (async () => {
      for (let i = 0; i < 150; i++) published.push(await bus.status({ userId, conversationId: 'c', runId: 'r' }));
    })();
    const sse = await connect('?after=0', await bearer(userId));
    await producer;
    await waitFor(() => sse.events.some((e) => e.id === published.at(-1)), 'the last event', 5000);
    expect(sse.events.map((e) => e.id)).toEqual(published);
  });

  it('ends the stream when the token expires', async () => {
    const token = await new SignJWT({ sub: 'sse-short', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 1 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_SECRET));
    const sse = await connect('', { authorization: `Bearer ${token}` });
    expect(sse.response.status).toBe(200);
    await waitFor(() => sse.ended, 'the stream to end', 4000);
  });
});
