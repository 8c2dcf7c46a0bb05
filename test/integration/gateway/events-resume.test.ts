import type { AgentEvent } from '@herald/contracts';
import type { Socket } from 'socket.io-client';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import {
  closeAll,
  connectClient,
  randomNamespace,
  startTestGateway,
  TestBus,
  tokenFor,
  type TestClient,
} from '../../support/gateway-harness';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/polling';

type ResumeAck = { ok: boolean; replayed?: number; lastId?: string; more?: boolean; error?: { code: string } };
const resume = (socket: Socket, payload: object): Promise<ResumeAck> => socket.timeout(10_000).emitWithAck('events:resume', payload);

/** What a client keeps, per PROTOCOL.md §3: it drops any event whose id is not above the last it saw. */
function deduplicated(events: AgentEvent[]): string[] {
  const kept: string[] = [];
  let last = -1n;
  for (const e of events) {
    if (BigInt(e.id) > last) {
      kept.push(e.id);
      last = BigInt(e.id);
    }
  }
  return kept;
}

describe('gateway: events:resume', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  const clients: TestClient[] = [];
  const connect = async (userId: string) => {
    const c = await connectClient(gw.url, await tokenFor(userId));
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    gw = await startTestGateway(ns);
    bus = await TestBus.open(ns);
  });

  afterEach(() => closeAll(...clients.splice(0)));

  afterAll(async () => {
    await gw?.close();
    await bus?.cleanup();
  });

  it("replays the user's stored events in order, and nobody else's", async () => {
    const mine: string[] = [];
    for (let i = 0; i < 12; i++) {
      mine.push(await bus.status({ userId: 'history', conversationId: `conv-${i % 2}`, runId: 'r' }, `step ${i}`));
      await bus.status({ userId: 'not-history', conversationId: 'conv-0', runId: 'r' });
    }
    const client = await connect('history');
    const res = await resume(client.socket, { after: '0' });
    expect(res).toEqual({ ok: true, replayed: 12, lastId: mine.at(-1), more: false });
    expect(client.events.map((e) => e.id)).toEqual(mine);
    expect(client.events[3]).toMatchObject({ type: 'status', conversationId: 'conv-1', data: { message: 'step 3' } });

    client.events.length = 0;
    const partial = await resume(client.socket, { after: mine[7] });
    expect(partial).toEqual({ ok: true, replayed: 4, lastId: mine.at(-1), more: false });
    expect(client.events.map((e) => e.id)).toEqual(mine.slice(8));

    client.events.length = 0;
    const numeric = await resume(client.socket, { after: Number(mine[9]) });
    expect(numeric.replayed).toBe(2);
    expect(client.events.map((e) => e.id)).toEqual(mine.slice(10));
  });

  it("replays one conversation's events with conversationId", async () => {
    const conversationId = '0b7e1f4c-9a51-4c1e-8a55-3f0c2b8f6d11';
    const inConversation: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await bus.status({ userId: 'scoped', conversationId: i % 2 ? conversationId : 'other-conv', runId: 'r' });
      if (i % 2) inConversation.push(id);
    }
    const client = await connect('scoped');
    const res = await resume(client.socket, { after: '0', conversationId: conversationId.toUpperCase() });
    expect(res).toEqual({ ok: true, replayed: 3, lastId: inConversation.at(-1), more: false });
    expect(client.events.map((e) => e.id)).toEqual(inConversation);
  });

  it('answers replayed 0 and lastId = after when there is nothing newer', async () => {
    const id = await bus.status({ userId: 'up-to-date', conversationId: 'c', runId: 'r' });
    const client = await connect('up-to-date');
    expect(await resume(client.socket, { after: id })).toEqual({ ok: true, replayed: 0, lastId: id, more: false });
    expect(await resume(client.socket, { after: '999999999999' })).toEqual({ ok: true, replayed: 0, lastId: '999999999999', more: false });
    expect(await resume(client.socket, { after: '9999999999999999999' })).toEqual({
      ok: true,
      replayed: 0,
      lastId: '9999999999999999999',
      more: false,
    });
    expect(client.events).toHaveLength(0);
  });

  it('switches from replay to live with no gap and no reordering while events keep coming', async () => {
    const userId = 'busy';
    const published: string[] = [];
    for (let i = 0; i < 150; i++) published.push(await bus.status({ userId, conversationId: `c${i % 3}`, runId: 'r' }));
    const client = await connect(userId);
    const other = await connect(userId);

    let publishing = true;
    const producer = (async () => {
      for (let i = 0; i < 150; i++) {
        published.push(await bus.status({ userId, conversationId: `c${i % 3}`, runId: 'r' }));
        if (i % 10 === 0) await sleep(1);
      }
      publishing = false;
    })();
    await sleep(5);
    const res = await resume(client.socket, { after: '0' });
    await producer;
    expect(publishing).toBe(false);
    await waitFor(() => client.events.some((e) => e.id === published.at(-1)), 'the last event', 5000);

    expect(res.ok).toBe(true);
    expect(res.replayed).toBeGreaterThanOrEqual(150);
    const lastId = BigInt(res.lastId!);
    const ids = client.events.map((e) => e.id);
    // Live events the socket got before the server took the resume: a run of consecutive ids.
    const restart = ids.findIndex((id, i) => i > 0 && BigInt(id) <= BigInt(ids[i - 1]));
    const before = restart === -1 ? [] : ids.slice(0, restart);
    if (before.length) expect(before).toEqual(published.slice(published.indexOf(before[0]), published.indexOf(before[0]) + before.length));
    // Then exactly the replay (after, lastId], then everything newer: no gap, no reordering.
    expect(ids.slice(before.length)).toEqual([
      ...published.filter((id) => BigInt(id) <= lastId),
      ...published.filter((id) => BigInt(id) > lastId),
    ]);
    expect(deduplicated(client.events.slice(before.length))).toEqual(published);
    // The socket that did not resume only saw live events, in order.
    await waitFor(() => other.events.some((e) => e.id === published.at(-1)), 'the last event on the other socket', 5000);
    const live = other.events.map((e) => e.id);
    expect(live).toEqual(published.slice(published.indexOf(live[0])));
  });

  it('serializes concurrent resumes of one socket', async () => {
    const userId = 'twice';
    const published: string[] = [];
    for (let i = 0; i < 40; i++) published.push(await bus.status({ userId, conversationId: 'c', runId: 'r' }));
    const client = await connect(userId);
    const [first, second] = await Promise.all([resume(client.socket, { after: '0' }), resume(client.socket, { after: published[19] })]);
    expect(first).toEqual({ ok: true, replayed: 40, lastId: published[39], more: false });
    expect(second).toEqual({ ok: true, replayed: 20, lastId: published[39], more: false });
    expect(client.events.map((e) => e.id)).toEqual([...published, ...published.slice(20)]);
    expect(deduplicated(client.events)).toEqual(published);
  });

  it("delivers other conversations' live events that arrive during a conversation-scoped replay", async () => {
    const userId = 'multi';
    const conversationId = '5d2c6a3e-1f0b-4a7d-9c8e-2b1a0f9e8d7c';
    for (let i = 0; i < 100; i++) await bus.status({ userId, conversationId, runId: 'r' });
    const client = await connect(userId);
    const pending = resume(client.socket, { after: '0', conversationId });
    const elsewhere = await bus.status({ userId, conversationId: 'another', runId: 'r2' });
    const res = await pending;
    expect(res.replayed).toBe(100);
    await waitFor(() => client.events.some((e) => e.id === elsewhere), 'the other conversation event', 3000);
  });
});
