import { subjects } from '@herald/contracts';
import { decodeJson } from './codec';
import { EventPublisher } from './event-publisher';
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
});
