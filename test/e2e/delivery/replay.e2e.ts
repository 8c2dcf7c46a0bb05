import type { AgentEvent } from '@herald/contracts';
import type { HeraldClient } from '@herald/client';
import { connect } from 'nats';
import { subjects } from '@herald/contracts';
import { SseClient } from '../../support/sse-client';
import { Cluster } from '../../support/cluster';
import { EventCollector } from '../../support/event-collector';
import { runViolations } from '../../support/invariants';
import { untilRunLogged } from '../../support/stored';
import { waitFor } from '../../support/polling';

/** Every `agent:event` the socket receives, before the client's own dedup. */
function rawEvents(client: HeraldClient): AgentEvent[] {
  const raw: AgentEvent[] = [];
  client.socket.on('agent:event', (e: AgentEvent) => raw.push(e));
  return raw;
}

describe('nothing lost: replay and resume (4 services, 2 gateways)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '8' } });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it('gives a client that was away everything of a run that went on without it, final answer included, on the other gateway', async () => {
    const watcher = new EventCollector(await cluster.client('olive', 1));
    const tab = await cluster.client('olive', 0);
    const before = new EventCollector(tab);
    const ack = await tab.send('Explain how Herald resumes events after a reconnect', { stream: true });
    await before.untilSeen(ack.runId, (e) => e.type === 'message_delta');
    const cursor = before.events.at(-1)!.id;
    tab.close();

    const full = await watcher.until(ack.runId);
    expect(runViolations(full, { stream: true })).toEqual([]);
    expect(before.events.length).toBeLessThan(full.length);

    const back = await cluster.client('olive', 1);
    const raw = rawEvents(back);
    const after = new EventCollector(back);
    const result = await back.resume(cursor);
    const missed = full.filter((e) => BigInt(e.id) > BigInt(cursor));
    expect(result).toMatchObject({ replayed: missed.length, lastId: full.at(-1)!.id });
    expect(raw).toEqual(missed); // in order, once
    expect([...before.events, ...after.events]).toEqual(full);
    expect(after.events.some((e) => e.type === 'message')).toBe(true);
  });

  it('replays from the Postgres event log what the stream no longer holds, in order and once, then goes live without a gap', async () => {
    const user = 'pia';
    const watcher = new EventCollector(await cluster.client(user, 0));
    const sender = await cluster.client(user, 0);
    const first = await sender.send('What is JetStream?', { stream: true });
    const firstEvents = await watcher.until(first.runId);
    const second = await sender.send('How do cancellations work?');
    const secondEvents = await watcher.until(second.runId);
    await untilRunLogged(cluster, user, first.runId, firstEvents.at(-1)!.id);
    await untilRunLogged(cluster, user, second.runId, secondEvents.at(-1)!.id);
    const all = [...watcher.events];

    // Drop from the stream everything before the middle of the second run.
    const cut = secondEvents[Math.floor(secondEvents.length / 2)].id;
    const nc = await connect({ servers: cluster.natsUrl });
    try {
      const jsm = await nc.jetstreamManager();
      const stream = subjects(cluster.namespace).streams.events;
      await jsm.streams.purge(stream, { seq: Number(cut) });
      expect((await jsm.streams.info(stream)).state.first_seq).toBe(Number(cut));
    } finally {
      await nc.close();
    }

    // Socket.IO, on the other gateway: every event once, in order.
    const fresh = await cluster.client(user, 1);
    const raw = rawEvents(fresh);
    const resumed = new EventCollector(fresh);
    const result = await fresh.resume('0');
    expect(result).toMatchObject({ replayed: all.length, lastId: all.at(-1)!.id });
    expect(raw.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(raw).toEqual(all);

    // One conversation only.
    const scoped = await cluster.client(user, 0);
    const scopedRaw = rawEvents(scoped);
    await expect(scoped.resume('0', first.conversationId)).resolves.toMatchObject({ replayed: firstEvents.length });
    expect(scopedRaw).toEqual(firstEvents);

    // SSE, with Last-Event-ID and with ?after=.
    const token = await cluster.token(user);
    const sse = await SseClient.open(`${cluster.gatewayUrl(0)}/v1/events`, { authorization: `Bearer ${token}`, 'last-event-id': '0' });
    const sseAfter = await SseClient.open(`${cluster.gatewayUrl(1)}/v1/events?after=${firstEvents[2].id}`, {
      authorization: `Bearer ${token}`,
    });
    try {
      expect(sse.response.headers.get('cache-control')).toContain('no-cache');
      await waitFor(
        () => sse.events.length >= all.length && sseAfter.events.length >= all.length - 3,
        () => `SSE got ${sse.events.length} and ${sseAfter.events.length} of ${all.length}`,
        20_000,
      );

      // Then live, on every receiver, with no gap.
      const third = await sender.send('Thanks!');
      const thirdEvents = await watcher.until(third.runId);
      const everything = [...watcher.events];
      await resumed.until(third.runId);
      expect(resumed.events).toEqual(everything);
      await waitFor(
        () => sse.events.length >= everything.length && sseAfter.events.length >= everything.length - 3,
        () => `SSE live got ${sse.events.length} and ${sseAfter.events.length} of ${everything.length}`,
        20_000,
      );
      expect(sse.events.map((e) => e.id)).toEqual(everything.map((e) => e.id));
      expect(sse.events.map((e) => e.type)).toEqual(everything.map((e) => e.type));
      expect(sse.events.map((e) => ({ id: e.id, ...e.envelope }))).toEqual(everything.map((e) => JSON.parse(JSON.stringify(e))));
      expect(sseAfter.events.map((e) => e.id)).toEqual(everything.slice(3).map((e) => e.id));
      expect(thirdEvents.at(-1)!.type).toBe('orchestration_completed');
    } finally {
      sse.close();
      sseAfter.close();
    }
  });

  it('resumes while a run is streaming: the replay, then the held-back live events, with no gap and no reordering', async () => {
    const user = 'quinn';
    const watcher = new EventCollector(await cluster.client(user, 0));
    const sender = await cluster.client(user, 0);
    const ack = await sender.send('Explain in detail how the gateway delivers events live and on replay', { stream: true });
    await watcher.untilSeen(ack.runId, (e) => e.type === 'message_delta');

    // Several sockets join mid-stream on both gateways and resume from the start. Live events
    // may reach a socket before its resume request reaches the server; from the first replayed
    // event on, the server must send everything once and in order: the replay, then the
    // live events it held back, then live.
    const joiners = await Promise.all([0, 1, 1].map((g) => cluster.client(user, g)));
    const raws = joiners.map(rawEvents);
    const results = await Promise.all(joiners.map((c) => c.resume('0')));
    for (const r of results) expect(Number(r.replayed)).toBeGreaterThan(0);
    const full = await watcher.until(ack.runId);
    expect(runViolations(full, { stream: true })).toEqual([]);
    for (const raw of raws) {
      await waitFor(
        () => raw.some((e) => e.runId === ack.runId && e.type === 'orchestration_completed'),
        () => 'a joiner missed the end',
        10_000,
      );
      const restart = raw.findIndex((e, i) => i > 0 && BigInt(e.id) <= BigInt(raw[i - 1].id));
      const early = restart === -1 ? [] : raw.slice(0, restart);
      const fromReplay = restart === -1 ? raw : raw.slice(restart);
      expect(fromReplay.map((e) => e.id)).toEqual(full.map((e) => e.id));
      expect(fromReplay).toEqual(full);
      for (const e of early) expect(full).toContainEqual(e);
    }
  });
});
