import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import type { RunningGateway } from '../../../apps/gateway/src/bootstrap';
import type { PersistenceHarness } from '../../support/persistence-harness';
import {
  closeAll,
  connectClient,
  randomNamespace,
  startTestGateway,
  TestBus,
  tokenFor,
  type TestClient,
} from '../../support/gateway-harness';
import { waitFor } from '../../support/polling';

type AckResponse = { ok: boolean; error?: { code: string; message: string; retryAfterMs?: number } } & Record<string, unknown>;

const MAX_CHARS = 100;
const UUID = randomUUID();

function ack(socket: Socket, event: string, ...args: unknown[]): Promise<AckResponse> {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

/** Decoded on the server exactly like this: JSON.parse keeps `__proto__` as an own key. */
const withKey = (json: string) => JSON.parse(json) as object;

describe('gateway: client event validation (PROTOCOL.md §2)', () => {
  const ns = randomNamespace();
  let gw: RunningGateway;
  let bus: TestBus;
  let persistence: PersistenceHarness;
  let client: TestClient;

  beforeAll(async () => {
    gw = await startTestGateway(ns, { MAX_MESSAGE_CHARS: String(MAX_CHARS), RATE_LIMIT_PER_MINUTE: '1000' });
    bus = await TestBus.open(ns);
    persistence = await bus.persistence();
    client = await connectClient(gw.url, await tokenFor('validator'));
  });

  afterAll(async () => {
    closeAll(client);
    await persistence?.close();
    await gw?.close();
    await bus?.cleanup();
  });

  afterEach(() => {
    // Whatever was sent, the connection is still there.
    expect(client.socket.connected).toBe(true);
  });

  const validSend = { conversationId: 'new', content: 'hello' };

  const badChatSends: Array<[string, unknown[], RegExp?]> = [
    ['no payload at all', []],
    ['null', [null]],
    ['a number', [42]],
    ['a string', ['hello']],
    ['an array', [[validSend]]],
    ['a boolean', [true]],
    ['a missing conversationId', [{ content: 'hi' }], /conversationId/],
    ['a missing content', [{ conversationId: 'new' }], /content/],
    ['a non-string content', [{ conversationId: 'new', content: 42 }], /content/],
    ['whitespace-only content', [{ conversationId: 'new', content: ' \n\t  ' }], /content/],
    ['content longer than MAX_MESSAGE_CHARS', [{ conversationId: 'new', content: 'x'.repeat(MAX_CHARS + 1) }], /content/],
    ['a conversationId that is not a UUID', [{ conversationId: 'abc', content: 'hi' }], /conversationId/],
    ['a numeric conversationId', [{ conversationId: 7, content: 'hi' }], /conversationId/],
    ['"new " with a space', [{ conversationId: 'new ', content: 'hi' }], /conversationId/],
    ['an unknown traceLevel', [{ ...validSend, options: { traceLevel: 'verbose' } }], /traceLevel/],
    ['an unknown onBusy', [{ ...validSend, options: { onBusy: 'later' } }], /onBusy/],
    ['a non-boolean stream', [{ ...validSend, options: { stream: 'yes' } }], /stream/],
    ['an unknown option', [{ ...validSend, options: { priority: 1 } }], /options/],
    ['options that are not an object', [{ ...validSend, options: 'fast' }], /options/],
    ['an unknown top-level field', [{ ...validSend, extra: true }]],
    ['a clientMessageId over 64 characters', [{ ...validSend, clientMessageId: 'c'.repeat(65) }], /clientMessageId/],
    ['an empty clientMessageId', [{ ...validSend, clientMessageId: '' }], /clientMessageId/],
    ['a numeric clientMessageId', [{ ...validSend, clientMessageId: 5 }], /clientMessageId/],
    ['a __proto__ key', [withKey('{"conversationId":"new","content":"hi","__proto__":{"isAdmin":true}}')], /forbidden/],
    ['a nested __proto__ key', [withKey('{"conversationId":"new","content":"hi","options":{"__proto__":{"stream":true}}}')], /forbidden/],
    ['a constructor key', [withKey('{"conversationId":"new","content":"hi","constructor":{"prototype":{}}}')], /forbidden/],
  ];

  // Every row has three cells (Jest passes `done` in place of a missing one).
  it.each(badChatSends.map(([label, args, message]) => [label, args, message ?? null] as const))(
    'chat:send refuses %s with INVALID_INPUT',
    async (_label, args, message) => {
      const stored = (await persistence.runsOf('validator')).length;
      const res = await ack(client.socket, 'chat:send', ...args);
      expect(res.ok).toBe(false);
      expect(res.error?.code).toBe('INVALID_INPUT');
      expect(typeof res.error?.message).toBe('string');
      if (message) expect(res.error?.message).toMatch(message);
      expect(await persistence.runsOf('validator')).toHaveLength(stored);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  );

  it('chat:send accepts content of exactly MAX_MESSAGE_CHARS after trimming', async () => {
    const res = await ack(client.socket, 'chat:send', { conversationId: 'new', content: `  ${'y'.repeat(MAX_CHARS)}  ` });
    expect(res.ok).toBe(true);
    expect((await persistence.runsOf('validator')).find((r) => r.runId === res.runId)?.content).toBe('y'.repeat(MAX_CHARS));
  });

  const badCancels: Array<[string, unknown[]]> = [
    ['no payload', []],
    ['a string', [UUID]],
    ['a missing runId', [{}]],
    ['a runId that is not a UUID', [{ runId: 'run-1' }]],
    ['an extra field', [{ runId: UUID, force: true }]],
    ['a __proto__ key', [withKey(`{"runId":"${UUID}","__proto__":{"x":1}}`)]],
  ];

  it.each(badCancels)('run:cancel refuses %s with INVALID_INPUT', async (_label, args) => {
    const res = await ack(client.socket, 'run:cancel', ...args);
    expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  const badResponds: Array<[string, unknown[]]> = [
    ['no payload', []],
    ['a missing requestId', [{ runId: UUID, response: 'yes' }]],
    ['a missing response', [{ runId: UUID, requestId: 'q1' }]],
    ['an empty string response', [{ runId: UUID, requestId: 'q1', response: '' }]],
    ['an approval without approved', [{ runId: UUID, requestId: 'q1', response: { comment: 'ok' } }]],
    ['a non-boolean approved', [{ runId: UUID, requestId: 'q1', response: { approved: 'yes' } }]],
    ['an approval with an extra field', [{ runId: UUID, requestId: 'q1', response: { approved: true, why: 1 } }]],
    ['a numeric response', [{ runId: UUID, requestId: 'q1', response: 1 }]],
    ['a requestId over 128 characters', [{ runId: UUID, requestId: 'r'.repeat(129), response: 'a' }]],
    ['a bad runId', [{ runId: 'x', requestId: 'q1', response: 'a' }]],
  ];

  it.each(badResponds)('run:respond refuses %s with INVALID_INPUT', async (_label, args) => {
    const res = await ack(client.socket, 'run:respond', ...args);
    expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  const badResumes: Array<[string, unknown[]]> = [
    ['no payload', []],
    ['a missing after', [{}]],
    ['a negative after', [{ after: '-1' }]],
    ['a negative numeric after', [{ after: -1 }]],
    ['a fractional after', [{ after: 1.5 }]],
    ['a non-decimal after', [{ after: '0x10' }]],
    ['an after with leading zeros', [{ after: '007' }]],
    ['an after that is too long', [{ after: '1'.repeat(25) }]],
    ['a bad conversationId', [{ after: '0', conversationId: 'abc' }]],
    ['an extra field', [{ after: '0', limit: 5 }]],
  ];

  it.each(badResumes)('events:resume refuses %s with INVALID_INPUT', async (_label, args) => {
    const res = await ack(client.socket, 'events:resume', ...args);
    expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  const badFeedback: Array<[string, unknown[]]> = [
    ['no payload', []],
    ['a missing rating', [{ messageId: UUID }]],
    ['another rating', [{ messageId: UUID, rating: 'meh' }]],
    ['a bad messageId', [{ messageId: 'm-1', rating: 'up' }]],
    ['a comment over 2000 characters', [{ messageId: UUID, rating: 'up', comment: 'c'.repeat(2001) }]],
    ['a lone surrogate in the comment', [{ messageId: UUID, rating: 'up', comment: 'a\ud800b' }]],
    ['a NUL in the comment', [{ messageId: UUID, rating: 'down', comment: 'a\u0000b' }]],
    ['a comment without a rating', [{ messageId: UUID, rating: null, comment: 'why' }]],
    ['an extra field', [{ messageId: UUID, rating: 'up', stars: 5 }]],
    ['a prototype key', [withKey(`{"messageId":"${UUID}","rating":"up","__proto__":{"x":1}}`)]],
  ];

  it.each(badFeedback)('message:feedback refuses %s with INVALID_INPUT, before asking storage', async (_label, args) => {
    const res = await ack(client.socket, 'message:feedback', ...args);
    expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it.each(['chat:sendd', 'agent:event', 'toString', '__proto__', 'constructor', 'x'.repeat(500)])(
    'answers the unknown event %j with INVALID_INPUT',
    async (event) => {
      const res = await ack(client.socket, event, { any: 'thing' });
      expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      expect(res.error!.message.length).toBeLessThan(120);
    },
  );

  it('ignores unknown events without a callback, and stays usable', async () => {
    client.socket.emit('nonsense', 1, 2, 3);
    client.socket.emit('toString');
    const res = await ack(client.socket, 'chat:send', { conversationId: 'new', content: 'still here' });
    expect(res.ok).toBe(true);
  });

  it('processes chat:send without a callback', async () => {
    client.socket.emit('chat:send', { conversationId: 'new', content: 'fire and forget' });
    await waitFor(
      async () => (await persistence.runsOf('validator')).some((r) => r.content === 'fire and forget'),
      'the run admitted',
      3000,
    );
  });

  it('processes run:cancel without a callback', async () => {
    const runId = await persistence.addRun('validator', 'running');
    const seen: string[] = [];
    const sub = bus.nc.subscribe(bus.subjects.runCancel, {
      callback: (_e, msg) => seen.push(JSON.parse(new TextDecoder().decode(msg.data)).runId),
    });
    await bus.nc.flush();
    client.socket.emit('run:cancel', { runId });
    await waitFor(() => seen.includes(runId), 'cancel command', 3000);
    sub.unsubscribe();
  });

  it('closes only the connection that sends a frame over 64 KiB', async () => {
    const other = await connectClient(gw.url, await tokenFor('validator'));
    const victim = await connectClient(gw.url, await tokenFor('validator'));
    try {
      // Just under the limit: refused as input, connection kept.
      const under = await ack(victim.socket, 'chat:send', { conversationId: 'new', content: 'z'.repeat(60 * 1024) });
      expect(under).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      expect(victim.socket.connected).toBe(true);

      const reason = new Promise<string>((resolve) => victim.socket.once('disconnect', resolve));
      victim.socket.emit('chat:send', { conversationId: 'new', content: 'z'.repeat(70 * 1024) });
      await expect(reason).resolves.toMatch(/transport (close|error)/);

      const res = await ack(other.socket, 'chat:send', { conversationId: 'new', content: 'unaffected' });
      expect(res.ok).toBe(true);
      expect(client.socket.connected).toBe(true);
    } finally {
      closeAll(other, victim);
    }
  });
});
