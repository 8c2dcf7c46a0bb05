import type { AgentEvent } from '@herald/contracts';
import type { HeraldClient } from '@herald/client';
import { io, type Socket } from 'socket.io-client';
import { Cluster } from '../support/cluster';
import { runViolations } from '../support/invariants';
import { setTimeout as sleep } from 'node:timers/promises';

/** Events of `runId` collected from `subscribe` until the run's terminal event. */
function collectFrom(subscribe: (listener: (e: AgentEvent) => void) => void) {
  const events: AgentEvent[] = [];
  subscribe((e) => events.push(e));
  return {
    events,
    of: (runId: string) => events.filter((e) => e.runId === runId),
    async until(runId: string, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const run = events.filter((e) => e.runId === runId);
        if (run.some((e) => ['orchestration_completed', 'run_cancelled', 'error'].includes(e.type))) return run;
        await sleep(20);
      }
      throw new Error(
        `run ${runId} did not end; saw ${events
          .filter((e) => e.runId === runId)
          .map((e) => e.type)
          .join(',')}`,
      );
    },
  };
}

/** Through the typed client (which drops an id not greater than the last it delivered). */
const collect = (client: HeraldClient) => collectFrom((listener) => client.onEvent(listener));

/** Ids that do not strictly increase, in the order they arrived. */
function nonIncreasingIds(events: AgentEvent[]): string[] {
  return events.filter((e, i) => i > 0 && BigInt(e.id) <= BigInt(events[i - 1].id)).map((e) => e.id);
}

describe('the pipeline, end to end (4 services, 2 gateways)', () => {
  let cluster: Cluster;
  const rawSockets: Socket[] = [];

  /**
   * Every `agent:event` exactly as the gateway emits it, on a plain socket.io-client socket
   * (no HeraldClient, so nothing is filtered): what the id-order checks must see.
   */
  async function rawCollect(userId: string, gateway: number) {
    const socket = io(cluster.gatewayUrl(gateway), {
      transports: ['websocket'],
      auth: { token: await cluster.token(userId) },
      reconnection: false,
      forceNew: true,
    });
    rawSockets.push(socket);
    const seen = collectFrom((listener) => socket.on('agent:event', listener));
    await new Promise((resolve, reject) => {
      socket.once('session:ready', resolve);
      socket.once('connect_error', reject);
    });
    return seen;
  }

  /** One raw stream per gateway for `userId`. */
  const rawOnEachGateway = (userId: string) => Promise.all([rawCollect(userId, 0), rawCollect(userId, 1)]);

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2 });
  }, 60_000);

  afterAll(async () => {
    rawSockets.forEach((s) => s.disconnect());
    await cluster?.stop();
  }, 30_000);

  it('streams a question through every stage and stores the exchange', async () => {
    const alice = await cluster.client('alice');
    const seen = collect(alice);
    const raw = await rawOnEachGateway('alice');
    const ack = await alice.send('What is NATS JetStream and how does Herald use it?', { stream: true, traceLevel: 'summary' });
    expect(ack).toMatchObject({ conversationId: expect.any(String), runId: expect.any(String), messageId: expect.any(String) });

    const events = await seen.until(ack.runId);
    expect(runViolations(events, { stream: true })).toEqual([]);
    for (const stream of raw) {
      const rawEvents = await stream.until(ack.runId);
      expect(runViolations(rawEvents, { stream: true })).toEqual([]);
      expect(nonIncreasingIds(stream.events)).toEqual([]);
      expect(rawEvents).toEqual(events);
    }
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('orchestration_started');
    expect(types.at(-1)).toBe('orchestration_completed');
    for (const t of [
      'status',
      'agent_started',
      'agent_thinking',
      'tool_executing',
      'tool_completed',
      'agent_completed',
      'message_delta',
      'message',
    ]) {
      expect(types).toContain(t);
    }
    const agents = new Set(events.flatMap((e) => (e.type === 'agent_started' ? [e.data.agent] : [])));
    expect([...agents].sort()).toEqual(['knowledge', 'reporting', 'triage']);
    const tool = events.find((e) => e.type === 'tool_completed');
    expect(tool?.type === 'tool_completed' && tool.data).toMatchObject({ tool: 'knowledge_search', ok: true });
    const message = events.find((e) => e.type === 'message');
    if (message?.type !== 'message') throw new Error('no message');
    expect(message.data.messageId).toBe(ack.messageId);
    expect(message.data.content.length).toBeGreaterThan(20);
    expect(message.data.metadata.intent).toBe('question');
    expect(message.data.metadata.sources.length).toBeGreaterThan(0);
    for (const e of events) expect(e.conversationId).toBe(ack.conversationId);
    const completed = events.at(-1)!;
    expect(completed.trace).toMatchObject({ latencyMs: expect.any(Number) });

    // Stored: the user's message and the answer, readable over HTTP.
    let messages: Array<{ role: string; content: string; id: string }> = [];
    for (let i = 0; i < 50 && messages.length < 2; i++) {
      const res = await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, { userId: 'alice' });
      expect(res.status).toBe(200);
      messages = (await res.json()).messages;
      if (messages.length < 2) await sleep(100);
    }
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[0].content).toBe('What is NATS JetStream and how does Herald use it?');
    expect(messages[1]).toMatchObject({ id: ack.messageId, content: message.data.content });

    const list = await (await cluster.http('/v1/conversations', { userId: 'alice' })).json();
    expect(list.conversations[0]).toMatchObject({ id: ack.conversationId, title: expect.stringContaining('NATS JetStream') });

    const run = await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'alice' });
    expect(run.status).toBe(200);
    const snapshot = await run.json();
    expect(snapshot).toMatchObject({
      runId: ack.runId,
      conversationId: ack.conversationId,
      status: 'completed',
      progress: 1,
      lastEventId: completed.id,
    });
    const etag = run.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'alice', headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
  });

  it('answers chitchat without a tool, and gives the model the conversation so far', async () => {
    const bob = await cluster.client('bob');
    const seen = collect(bob);
    const first = await bob.send('Hello there!');
    const events = await seen.until(first.runId);
    expect(runViolations(events)).toEqual([]);
    expect(events.some((e) => e.type === 'tool_executing')).toBe(false);
    const message = events.find((e) => e.type === 'message');
    expect(message?.type === 'message' && message.data.metadata.intent).toBe('chitchat');

    // A second message in the same conversation moves its updatedAt and stores 4 messages.
    const second = await bob.send('How do I resume events after a reconnect?', { conversationId: first.conversationId });
    expect(second.conversationId).toBe(first.conversationId);
    expect(runViolations(await seen.until(second.runId))).toEqual([]);
    let count = 0;
    for (let i = 0; i < 50 && count < 4; i++) {
      const res = await cluster.http(`/v1/conversations/${first.conversationId}/messages`, { userId: 'bob' });
      count = (await res.json()).messages.length;
      if (count < 4) await sleep(100);
    }
    expect(count).toBe(4);
  });

  it('delivers every event to every socket of the user on both gateways, and to nobody else', async () => {
    const tabs = [await cluster.client('carol', 0), await cluster.client('carol', 1), await cluster.client('carol', 1)];
    const intruders = [
      await cluster.client('mallory', 0),
      await cluster.client('mallory', 1),
      await cluster.client('*', 0),
      await cluster.client('>', 1),
    ];
    const seen = [...tabs.map(collect), ...(await rawOnEachGateway('carol'))];
    const leaked: AgentEvent[] = [];
    intruders.forEach((c) => c.onEvent((e) => leaked.push(e)));
    const rawIntruders = [...(await rawOnEachGateway('mallory')), await rawCollect('*', 0), await rawCollect('>', 1)];

    const ack = await tabs[0].send('How are events delivered to browser tabs?', { stream: true });
    const runs = await Promise.all(seen.map((s) => s.until(ack.runId)));
    const ids = runs[0].map((e) => e.id);
    for (const r of runs) {
      expect(runViolations(r, { stream: true })).toEqual([]);
      expect(r.map((e) => e.id)).toEqual(ids);
    }
    // The gateways answered from different instances.
    expect(new Set(tabs.map((t) => t.sessionInfo?.instanceId)).size).toBe(2);
    await sleep(200);
    expect(leaked).toEqual([]);
    expect(rawIntruders.flatMap((r) => r.events)).toEqual([]);
  });

  it('keeps ids increasing for one user across runs, conversations and gateways', async () => {
    const a = await cluster.client('dave', 0);
    const b = await cluster.client('dave', 1);
    const seenA = collect(a);
    const raw = await rawOnEachGateway('dave');
    const r1 = await a.send('What is a run?');
    const r2 = await b.send('Thanks!');
    await seenA.until(r1.runId);
    await seenA.until(r2.runId);
    const ids = seenA.events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(new Set(ids).size).toBe(ids.length);
    expect(r1.conversationId).not.toBe(r2.conversationId);
    // The same, on what each gateway emits: the typed client would hide an id that went backwards.
    for (const stream of raw) {
      expect(runViolations(await stream.until(r1.runId))).toEqual([]);
      expect(runViolations(await stream.until(r2.runId))).toEqual([]);
      expect(nonIncreasingIds(stream.events)).toEqual([]);
      expect(stream.events.map((e) => e.id)).toEqual(seenA.events.map((e) => e.id));
    }
  });

  it('keeps one user out of another user’s conversations, messages and runs', async () => {
    const erin = await cluster.client('erin');
    const seen = collect(erin);
    const ack = await erin.send('What is the event log?');
    await seen.until(ack.runId);

    const frank = await cluster.client('frank', 1);
    await expect(frank.send('let me in', { conversationId: ack.conversationId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(frank.send('nope', { conversationId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(frank.cancel(ack.runId)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    expect((await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, { userId: 'frank' })).status).toBe(404);
    expect((await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'frank' })).status).toBe(404);
    const post = await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, {
      userId: 'frank',
      method: 'POST',
      body: JSON.stringify({ content: 'hi' }),
    });
    expect(post.status).toBe(404);
    expect(await post.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    const list = await (await cluster.http('/v1/conversations', { userId: 'frank' })).json();
    expect(list.conversations.map((c: { id: string }) => c.id)).not.toContain(ack.conversationId);
  });

  it('accepts a message over HTTP (202) and streams its run to the user’s sockets', async () => {
    const gina = await cluster.client('gina', 1);
    const seen = collect(gina);
    const res = await cluster.http('/v1/conversations/new/messages', {
      userId: 'gina',
      method: 'POST',
      body: JSON.stringify({ content: 'What does the gateway do?' }),
    });
    expect(res.status).toBe(202);
    const ack = await res.json();
    expect(ack).toMatchObject({ conversationId: expect.any(String), runId: expect.any(String), messageId: expect.any(String) });
    expect(runViolations(await seen.until(ack.runId))).toEqual([]);
  });

  it('cancels a running run: it ends with run_cancelled, nothing follows, nothing is stored', async () => {
    const slow = await cluster.startService('worker', { LOCAL_ENGINE_TOKEN_DELAY_MS: '40', WORKER_CONCURRENCY: '4' });
    // Let only the slow worker take jobs: stop the fast one for this test.
    const fast = cluster.services.find((s) => s.app === 'worker' && s !== slow)!;
    await cluster.kill(fast, 'SIGTERM');
    cluster.services.splice(cluster.services.indexOf(fast), 1);
    await sleep(500);

    const hank = await cluster.client('hank');
    const seen = collect(hank);
    const ack = await hank.send('Explain how JetStream stores events and how resume works', { stream: true });
    // Wait until tokens are streaming, then cancel.
    const deadline = Date.now() + 20_000;
    while (!seen.of(ack.runId).some((e) => e.type === 'message_delta') && Date.now() < deadline) await sleep(20);
    expect(seen.of(ack.runId).some((e) => e.type === 'message_delta')).toBe(true);
    await expect(hank.cancel(ack.runId)).resolves.toMatchObject({});
    const events = await seen.until(ack.runId, 10_000);
    expect(events.at(-1)!.type).toBe('run_cancelled');
    expect(runViolations(events)).toEqual([]);
    expect(events.some((e) => e.type === 'message')).toBe(false);
    await sleep(500);
    expect(seen.of(ack.runId).length).toBe(events.length); // nothing after the terminal event
    await expect(hank.cancel(ack.runId)).resolves.toEqual({ ok: true, alreadyFinished: true });

    const res = await cluster.http(`/v1/conversations/${ack.conversationId}/messages`, { userId: 'hank' });
    expect((await res.json()).messages).toEqual([]);
    const snapshot = await (await cluster.http(`/v1/runs/${ack.runId}`, { userId: 'hank' })).json();
    expect(snapshot.status).toBe('cancelled');
  }, 60_000);
});
