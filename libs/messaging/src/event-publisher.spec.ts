import { ErrorCode, subjects, TOOL_PAYLOAD_MAX_BYTES } from '@herald/contracts';
import { decodeJson } from './codec';
import { EventPublisher, EventTooLargeError } from './event-publisher';
import type { StreamAck, StreamPublisher } from './jetstream-publisher';

const scope = { userId: 'u1', conversationId: 'c1', runId: 'r1' };
const noLeader = () => Object.assign(new Error('503'), { code: '503' });

/** A JetStream client that stores what it is given, failing the first `failures` attempts of a publish. */
function fakeJetStream(failures: Record<string, number>) {
  const stored: string[] = [];
  const attempts: string[] = [];
  const js = {
    publish: jest.fn(async (_subject: string, data: Uint8Array, opts: { msgId: string }) => {
      attempts.push(opts.msgId);
      if ((failures[opts.msgId] ?? 0) > 0) {
        failures[opts.msgId]--;
        await new Promise((r) => setTimeout(r, 5));
        throw noLeader();
      }
      stored.push(decodeJson<{ data: { delta: string } }>(data).data.delta);
      return { stream: 'EVENTS', seq: stored.length, duplicate: false } satisfies StreamAck;
    }),
  };
  return { js: js as StreamPublisher, stored, attempts };
}

describe('EventPublisher', () => {
  it('stores the events of a run in publish order, even when one must be tried again', async () => {
    const { js, stored, attempts } = fakeJetStream({ 'r1:1': 2 });
    const publisher = new EventPublisher(js, subjects('t'));
    const sent = ['a', 'b', 'c'].map((delta, i) =>
      publisher.publish(scope, 'message_delta', { messageId: 'm', delta }, { progress: 0.5, msgId: `r1:${i + 1}` }),
    );
    await expect(Promise.all(sent)).resolves.toEqual([1, 2, 3]);
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
    await expect(second).resolves.toBe(1);
    expect(stored).toEqual(['b']);
  });

  it('cuts a tool input or output over 32 KiB, with truncated: true, for every producer', async () => {
    const sent: Array<{ type: string; data: Record<string, unknown> }> = [];
    const js: StreamPublisher = {
      publish: async (_subject, data) => {
        sent.push(decodeJson(data));
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
    await expect(next).resolves.toBe(1);
    expect(stored).toEqual(['b']);
    expect(js.publish).toHaveBeenCalledTimes(1);
  });
});
