import { headers as natsHeaders } from 'nats';
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
import { eventually, waitFor } from '../../support/polling';

async function metric(gw: RunningGateway, name: string): Promise<number> {
  const text = await (await fetch(gw.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

describe('gateway: live delivery', () => {
  const ns = randomNamespace();
  let gw1: RunningGateway;
  let gw2: RunningGateway;
  let bus: TestBus;
  const clients: TestClient[] = [];
  const connect = async (gw: RunningGateway, userId: string) => {
    const client = await connectClient(gw.url, await tokenFor(userId));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    gw1 = await startTestGateway(ns);
    gw2 = await startTestGateway(ns);
    bus = await TestBus.open(ns);
  });

  afterEach(() => {
    closeAll(...clients.splice(0));
  });

  afterAll(async () => {
    await gw1?.close();
    await gw2?.close();
    await bus?.cleanup();
  });

  it("delivers a user's events to all of their sockets, on every instance, and to nobody else", async () => {
    const a1 = await connect(gw1, 'alice');
    const a2 = await connect(gw1, 'alice');
    const a3 = await connect(gw2, 'alice');
    const b1 = await connect(gw1, 'bob');
    const b2 = await connect(gw2, 'bob');

    const scope = { userId: 'alice', conversationId: 'conv-1', runId: 'run-1' };
    const id = await bus.status(scope, 'hello alice');
    for (const a of [a1, a2, a3]) await waitFor(() => a.events.some((e) => e.id === id), 'alice event', 3000);
    const event = a1.events.find((e) => e.id === id)!;
    expect(event).toMatchObject({
      id,
      type: 'status',
      runId: 'run-1',
      conversationId: 'conv-1',
      data: { step: 'test', message: 'hello alice' },
    });
    expect(event.id).toMatch(/^\d+$/);
    for (const a of [a1, a2, a3]) expect(a.events.filter((e) => e.id === id)).toHaveLength(1);

    const bobId = await bus.status({ userId: 'bob', conversationId: 'conv-2', runId: 'run-2' });
    await waitFor(() => b1.events.length === 1 && b2.events.length === 1, 'bob event', 3000);
    await sleep(100);
    expect(b1.events.map((e) => e.id)).toEqual([bobId]);
    expect(a1.events.map((e) => e.id)).toEqual([id]);
  });

  it('treats user ids with *, >, dots and spaces as data', async () => {
    const ids = ['*', '>', 'a.b c', 'a', 'a.b', 'ünï 😀'];
    const byUser = new Map<string, TestClient>();
    for (const userId of ids) byUser.set(userId, await connect(gw1, userId));
    const published = new Map<string, string>();
    for (const userId of ids) published.set(userId, await bus.status({ userId, conversationId: 'c', runId: 'r' }, `for ${userId}`));
    for (const userId of ids) await waitFor(() => byUser.get(userId)!.events.length >= 1, `event of ${userId}`, 3000);
    await sleep(150);
    for (const userId of ids) {
      expect(byUser.get(userId)!.events.map((e) => e.id)).toEqual([published.get(userId)]);
      expect(byUser.get(userId)!.events[0].data).toEqual({ step: 'test', message: `for ${userId}` });
    }
  });

  it('delivers every event published after session:ready', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const userId = `fresh-${i}`;
        const client = await connect(i % 2 ? gw1 : gw2, userId);
        const id = await bus.status({ userId, conversationId: 'c', runId: 'r' });
        await waitFor(() => client.events.some((e) => e.id === id), `event of ${userId}`, 3000);
        return client.events.length;
      }),
    );
    expect(results).toEqual(Array(20).fill(1));
  });

  it('keeps ids strictly increasing for one user across runs and conversations', async () => {
    const client = await connect(gw2, 'ordered');
    const published: string[] = [];
    for (let i = 0; i < 30; i++) published.push(await bus.status({ userId: 'ordered', conversationId: `c${i % 3}`, runId: `r${i % 5}` }));
    await waitFor(() => client.events.length === 30, '30 events', 5000);
    const ids = client.events.map((e) => BigInt(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(client.events.map((e) => e.id)).toEqual(published);
  });

  it('subscribes once per connected user and unsubscribes with their last socket', async () => {
    const gw = await startTestGateway(ns);
    try {
      expect(await metric(gw, 'herald_gateway_subscribed_users')).toBe(0);
      const c1 = await connect(gw, 'counted');
      const c2 = await connect(gw, 'counted');
      const other = await connect(gw, 'other');
      expect(await metric(gw, 'herald_gateway_subscribed_users')).toBe(2);
      expect(await metric(gw, 'herald_gateway_connected_sockets')).toBe(3);

      c1.socket.close();
      await eventually(async () => expect(await metric(gw, 'herald_gateway_connected_sockets')).toBe(2));
      expect(await metric(gw, 'herald_gateway_subscribed_users')).toBe(2);
      const id = await bus.status({ userId: 'counted', conversationId: 'c', runId: 'r' });
      await waitFor(() => c2.events.some((e) => e.id === id), 'event on the remaining socket', 3000);

      c2.socket.close();
      await eventually(async () => expect(await metric(gw, 'herald_gateway_subscribed_users')).toBe(1));
      other.socket.close();
      await eventually(async () => expect(await metric(gw, 'herald_gateway_subscribed_users')).toBe(0));
      expect(await metric(gw, 'herald_gateway_connected_sockets')).toBe(0);

      const again = await connect(gw, 'counted');
      const id2 = await bus.status({ userId: 'counted', conversationId: 'c', runId: 'r' });
      await waitFor(() => again.events.some((e) => e.id === id2), 'event after resubscribing', 3000);
      expect(again.events.map((e) => e.id)).toEqual([id2]);
    } finally {
      await gw.close();
    }
  });

  it('skips malformed live messages without disconnecting anyone', async () => {
    const client = await connect(gw1, 'robust');
    const live = bus.subjects.liveOfUser('robust').replace('>', 'c.r');
    const withSeq = (seq: string) => {
      const h = natsHeaders();
      h.set('Nats-Sequence', seq);
      return h;
    };
    bus.nc.publish(live, new TextEncoder().encode('{not json'), { headers: withSeq('999999') });
    bus.nc.publish(live, new TextEncoder().encode(JSON.stringify({ type: 'made_up' })), { headers: withSeq('999998') });
    bus.nc.publish(live, new TextEncoder().encode(JSON.stringify({ type: 'status' })));
    await bus.nc.flush();
    const id = await bus.status({ userId: 'robust', conversationId: 'c', runId: 'r' });
    await waitFor(() => client.events.length >= 1, 'valid event', 3000);
    expect(client.events.map((e) => e.id)).toEqual([id]);
    expect(client.socket.connected).toBe(true);
  });
});
