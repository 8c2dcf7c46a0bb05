import { ErrorCode, subjects, TOOL_PAYLOAD_MAX_BYTES } from '@herald/contracts';
import { decodeJson } from './codec';
import { MAX_BATCH_EVENTS } from './event-batch';
import { EventPublisher, EventTooLargeError } from './event-publisher';
import type { StreamAck, StreamPublisher } from './jetstream-publisher';

const scope = { userId: 'u1', conversationId: 'c1', runId: 'r1' };
const noLeader = () => Object.assign(new Error('503'), { code: '503' });

/** A JetStream client that stores what it is given, failing the first `failures` attempts of a publish. */
function fakeJetStream(failures: Record<string, number>) {
  const stored: string[] = [];
  const messages: string[][] = [];
  const attempts: string[] = [];
  const js = {
    publish: jest.fn(async (_subject: string, data: Uint8Array, opts: { msgId: string }) => {
      attempts.push(opts.msgId);
      if ((failures[opts.msgId] ?? 0) > 0) {
        failures[opts.msgId]--;
        await new Promise((r) => setTimeout(r, 5));
        throw noLeader();
      }
      const deltas = decodeJson<Array<{ data: { delta: string } }>>(data).map((e) => e.data.delta);
      stored.push(...deltas);
      messages.push(deltas);
      return { stream: 'EVENTS', seq: messages.length, duplicate: false } satisfies StreamAck;
    }),
  };
  return { js: js as StreamPublisher, stored, messages, attempts };
}

const delta = (publisher: EventPublisher, text: string, msgId: string, groupable = false) =>
  publisher.publish(scope, 'message_delta', { messageId: 'm', delta: text }, { progress: 0.5, msgId, groupable });

describe('EventPublisher', () => {
  it('stores the events of a run in publish order, even when one must be tried again', async () => {
    const { js, stored, attempts } = fakeJetStream({ 'r1:1': 2 });
    const publisher = new EventPublisher(js, subjects('t'));
    const sent = ['a', 'b', 'c'].map((delta, i) =>
      publisher.publish(scope, 'message_delta', { messageId: 'm', delta }, { progress: 0.5, msgId: `r1:${i + 1}` }),
    );
    await expect(Promise.all(sent)).resolves.toEqual([1000, 2000, 3000]);
    expect(stored).toEqual(['a', 'b', 'c']);
    expect(attempts).toEqual(['r1:1', 'r1:1', 'r1:1', 'r1:2', 'r1:3']);
  });

  it('gives up on an error that is not transient, and the next event still goes out', async () => {
    const { js, stored } = fakeJetStream({});
    (js.publish as jest.Mock).mockRejectedValueOnce(Object.assign(new Error('bad'), { code: 'BAD_REQUEST' }));
    const publisher = new EventPublisher(js, subjects('t'));
    const first = publisher.publish(scope, 'message_delta', { messageId: 'm', delta: 'a' }, { progress: 0.5, msgId: 'r1:1' });
    const second = publisher.publish(scope, 'message_delta', { messageId: 'm', delta: 'b' }, { progress: 0.5, msgId: 'r1:2' });
    await expect(first).rejects.toThrow('bad');
    await expect(second).resolves.toBe(1000);
    expect(stored).toEqual(['b']);
  });

  it('group commit: the first event goes at once, those published while it is in flight go as one message, ids seq × 1000 + index', async () => {
    const { js, messages, attempts } = fakeJetStream({});
    const publisher = new EventPublisher(js, subjects('t'));
    const ids = ['a', 'b', 'c', 'd'].map((text, i) => delta(publisher, text, `r1:7:d${i + 1}`, true));
    expect(js.publish).toHaveBeenCalledTimes(1); // 'a' at once, the rest wait for its ack
    await expect(Promise.all(ids)).resolves.toEqual([1000, 2000, 2001, 2002]);
    expect(messages).toEqual([['a'], ['b', 'c', 'd']]);
    expect(attempts).toEqual(['r1:7:d1', 'r1:7:d2,d3,d4']);
    // Idle again: the next event goes at once, alone.
    await expect(delta(publisher, 'e', 'r1:7:d5', true)).resolves.toBe(3000);
  });

  it('queues per subject: events of two users under the same run id each go to their own user’s subject', async () => {
    const subjectsSent: string[] = [];
    const js: StreamPublisher = {
      publish: async (subject) => {
        subjectsSent.push(subject);
        return { stream: 'EVENTS', seq: subjectsSent.length, duplicate: false };
      },
    };
    const publisher = new EventPublisher(js, subjects('t'));
    const s = subjects('t');
    await Promise.all(
      ['u1', 'u2', 'u1'].map((userId, i) =>
        publisher.publish(
          { ...scope, userId },
          'status',
          { step: 's', message: 'm' },
          { progress: 0, msgId: `r1:1:e${i}`, groupable: true },
        ),
      ),
    );
    expect(subjectsSent.sort()).toEqual([s.events('u1', 'c1', 'r1'), s.events('u1', 'c1', 'r1'), s.events('u2', 'c1', 'r1')].sort());
  });

  it('rejects the publishes of a message whose headers cannot be built, and goes on with the run', async () => {
    const { js, stored } = fakeJetStream({});
    const publisher = new EventPublisher(js, subjects('t'));
    const lone = { ...scope, traceparent: '\uD800' }; // not encodable as a header value
    const bad = publisher.publish(lone, 'message_delta', { messageId: 'm', delta: 'a' }, { progress: 0.5, msgId: 'r1:1:d1' });
    const good = delta(publisher, 'b', 'r1:1:d2');
    await expect(bad).rejects.toThrow(URIError);
    await expect(good).resolves.toBe(1000);
    expect(stored).toEqual(['b']);
  });

  it('sends alone what is not groupable, and does not group keys of different prefixes, keeping the order', async () => {
    const { js, messages, attempts } = fakeJetStream({});
    const publisher = new EventPublisher(js, subjects('t'));
    const sent = [
      delta(publisher, 'a', 'r1:1:e1', true),
      delta(publisher, 'b', 'r1:1:e2', true),
      delta(publisher, 'c', 'r1:o:terminal'),
      delta(publisher, 'd', 'r1:1:e3', true),
      delta(publisher, 'e', 'r1:2:e1', true),
      delta(publisher, 'f', 'r1:2:e2', true),
    ];
    await Promise.all(sent);
    expect(messages).toEqual([['a'], ['b'], ['c'], ['d'], ['e', 'f']]);
    expect(attempts).toEqual(['r1:1:e1', 'r1:1:e2', 'r1:o:terminal', 'r1:1:e3', 'r1:2:e1,e2']);
  });

  it('bounds a group by the payload budget and by MAX_BATCH_EVENTS', async () => {
    const { js, messages } = fakeJetStream({});
    js.payloadBudget = () => 1000;
    const publisher = new EventPublisher(js, subjects('t'));
    const text = 'x'.repeat(300); // ~430 bytes of JSON each: two fit, three do not
    await Promise.all(Array.from({ length: 5 }, (_, i) => delta(publisher, text, `r1:1:d${i}`, true)));
    expect(messages.map((m) => m.length)).toEqual([1, 2, 2]);

    const many = fakeJetStream({});
    const unbounded = new EventPublisher(many.js, subjects('t'));
    await Promise.all(Array.from({ length: MAX_BATCH_EVENTS + 3 }, (_, i) => delta(unbounded, 'y', `r1:1:d${i}`, true)));
    expect(many.messages.map((m) => m.length)).toEqual([1, MAX_BATCH_EVENTS, 2]);
  });

  it('a retried publish sends the same group again under the same msg id; a failed group rejects each of its events', async () => {
    const { js, messages, attempts } = fakeJetStream({ 'r1:1:d2,d3': 1 });
    const publisher = new EventPublisher(js, subjects('t'));
    const sent = ['a', 'b', 'c'].map((text, i) => delta(publisher, text, `r1:1:d${i + 1}`, true));
    await expect(Promise.all(sent)).resolves.toEqual([1000, 2000, 2001]);
    expect(attempts).toEqual(['r1:1:d1', 'r1:1:d2,d3', 'r1:1:d2,d3']);
    expect(messages).toEqual([['a'], ['b', 'c']]);

    const mock = js.publish as jest.Mock;
    mock
      .mockImplementationOnce(mock.getMockImplementation()!)
      .mockRejectedValueOnce(Object.assign(new Error('bad'), { code: 'BAD_REQUEST' }));
    const [w, x, y] = ['w', 'x', 'y'].map((text, i) => delta(publisher, text, `r1:2:d${i + 1}`, true));
    await expect(w).resolves.toBe(3000);
    await expect(x).rejects.toThrow('bad');
    await expect(y).rejects.toThrow('bad');
    await expect(delta(publisher, 'z', 'r1:2:d4', true)).resolves.toBe(4000);
    expect(messages.at(-1)).toEqual(['z']);
  });

  it('cuts a tool input or output over 32 KiB, with truncated: true, for every producer', async () => {
    const sent: Array<{ type: string; data: Record<string, unknown> }> = [];
    const js: StreamPublisher = {
      publish: async (_subject, data) => {
        sent.push(...decodeJson<typeof sent>(data));
        return { stream: 'EVENTS', seq: sent.length, duplicate: false };
      },
    };
    const publisher = new EventPublisher(js, subjects('t'));
    const base = { agent: 'data', tool: 'query', callId: 'call_1_1' };
    const big = 'é'.repeat(TOOL_PAYLOAD_MAX_BYTES); // 64 KiB of UTF-8
    await publisher.publish(scope, 'tool_executing', { ...base, input: { sql: big } }, { progress: 0.1, msgId: 'r1:e1' });
    await publisher.publish(scope, 'tool_completed', { ...base, ok: true, output: big, durationMs: 5 }, { progress: 0.2, msgId: 'r1:e2' });
    await publisher.publish(
      scope,
      'tool_completed',
      { ...base, ok: true, output: 'small', durationMs: 5 },
      { progress: 0.3, msgId: 'r1:e3' },
    );
    expect(sent[0].data).toMatchObject({ ...base, truncated: true });
    expect(Buffer.byteLength(sent[0].data.input as string)).toBeLessThanOrEqual(TOOL_PAYLOAD_MAX_BYTES);
    expect(sent[1].data).toMatchObject({ ...base, ok: true, truncated: true, durationMs: 5 });
    expect(Buffer.byteLength(sent[1].data.output as string)).toBe(TOOL_PAYLOAD_MAX_BYTES);
    expect(sent[2].data).toEqual({ ...base, ok: true, output: 'small', durationMs: 5 });
  });

  it('refuses an event larger than one message may carry: a rejected publish, nothing sent, the next event goes out', async () => {
    const { js, stored } = fakeJetStream({});
    js.payloadBudget = () => 64 * 1024;
    const publisher = new EventPublisher(js, subjects('t'));
    const huge = publisher.publish(
      scope,
      'message_delta',
      { messageId: 'm', delta: 'x'.repeat(65 * 1024) },
      { progress: 0.5, msgId: 'r1:1' },
    );
    const next = publisher.publish(scope, 'message_delta', { messageId: 'm', delta: 'b' }, { progress: 0.5, msgId: 'r1:2' });
    const err = await huge.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventTooLargeError);
    expect(err).toMatchObject({ code: ErrorCode.INTERNAL, type: 'message_delta', budget: 64 * 1024 });
    await expect(next).resolves.toBe(1000);
    expect(stored).toEqual(['b']);
    expect(js.publish).toHaveBeenCalledTimes(1);
  });
});
