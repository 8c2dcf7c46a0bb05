import type { EventData, EventType } from '@herald/contracts';
import { randomUUID } from 'node:crypto';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import { readSse } from '../../support/sse-frames';
import type { PersistenceHarness } from '../../support/persistence-harness';
import { randomNamespace, startTestGateway, TestBus, tokenFor } from '../../support/gateway-harness';
import { eventually, waitFor } from '../../support/polling';

/**
 * The protocol adapters (AG-UI, the AI SDK) against the in-process gateway, fake persistence
 * and events the test publishes itself: how their streams are counted and end.
 */
describe('gateway: AG-UI and AI SDK streams and the per-user limits', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let msg = 0;

  beforeAll(async () => {
    gw = await startTestGateway(ns, { MAX_CONNECTIONS_PER_USER: '1' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
  });

  afterAll(async () => {
    await gw?.close();
    await persistence?.close();
    await bus?.cleanup();
  });

  const headers = async (userId: string) => ({ authorization: `Bearer ${await tokenFor(userId)}`, 'content-type': 'application/json' });
  const agui = async (userId: string, text: string, signal?: AbortSignal) =>
    fetch(`${gw.url}/v1/agui`, {
      method: 'POST',
      headers: await headers(userId),
      body: JSON.stringify({ threadId: randomUUID(), runId: randomUUID(), messages: [{ id: '1', role: 'user', content: text }] }),
      signal,
    });
  const aiSdk = async (userId: string, text: string) =>
    fetch(`${gw.url}/v1/ai-sdk/chat`, {
      method: 'POST',
      headers: await headers(userId),
      body: JSON.stringify({
        id: randomUUID(),
        messages: [{ id: randomUUID(), role: 'user', parts: [{ type: 'text', text }] }],
        trigger: 'submit-message',
      }),
    });

  function publish<T extends EventType>(
    scope: { userId: string; conversationId: string; runId: string },
    type: T,
    data: EventData<T>,
    progress: number,
  ) {
    return bus.publisher.publish(scope, type, data, { progress, msgId: `protocol-${++msg}` });
  }

  it('a stream takes one of the user’s connection slots: one more is refused 429 TOO_MANY_CONNECTIONS before any run is admitted, and the slot frees when the stream ends', async () => {
    const user = 'slots';
    const first = await agui(user, 'hello');
    expect(first.status).toBe(200);
    const frames = readSse(first);
    const [admitted] = await waitFor(
      async () => {
        const runs = await persistence.runsOf(user);
        return runs.length === 1 && runs;
      },
      'the first run admitted',
      3000,
    );

    for (const refused of [await aiSdk(user, 'one more'), await agui(user, 'and another')]) {
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).not.toBeNull();
      expect((await refused.json()).error.code).toBe('TOO_MANY_CONNECTIONS');
    }
    expect(await persistence.runsOf(user)).toHaveLength(1);

    const scope = { userId: user, conversationId: admitted.conversationId, runId: admitted.runId };
    await publish(scope, 'orchestration_started', {}, 0.01);
    await publish(
      scope,
      'message',
      { messageId: admitted.messageId, role: 'assistant', content: 'Hi!', metadata: { intent: 'chitchat', sources: [] } },
      0.97,
    );
    await publish(scope, 'orchestration_completed', { durationMs: 5 }, 1);
    const events = (await frames).map((f) => JSON.parse(f.data) as { type: string; delta?: string });
    expect(events.at(-1)).toMatchObject({ type: 'RUN_FINISHED', outcome: { type: 'success' } });
    expect(events.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').map((e) => e.delta)).toEqual(['Hi!']);

    // The slot came back: the next stream is admitted.
    await eventually(async () => {
      const next = await aiSdk(user, 'now there is room');
      expect(next.status).toBe(200);
      await next.body?.cancel();
    });
  });

  it('a client that goes away gives its slot back (and the run goes on)', async () => {
    const user = 'leaver';
    const abort = new AbortController();
    const res = await agui(user, 'hello', abort.signal);
    expect(res.status).toBe(200);
    abort.abort();
    await eventually(async () => {
      const next = await agui(user, 'again');
      expect(next.status).toBe(200);
      await next.body?.cancel();
    });
  });
});
