import { randomBytes } from 'node:crypto';
import { JetStreamPublisher, streamSequenceOf } from '@herald/messaging';
import { connect, headers, type JetStreamManager, type Msg, type NatsConnection } from 'nats';
import { waitFor } from '../../support/polling';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

describe('streamSequenceOf (messages republished by a real JetStream stream)', () => {
  const tag = `seq${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: tag.toUpperCase(), subjects: [`${tag}.in.>`], republish: { src: `${tag}.in.>`, dest: `${tag}.out.>` } });
  });

  afterAll(async () => {
    await jsm?.streams.delete(tag.toUpperCase()).catch(() => undefined);
    await nc?.close();
  });

  it("agrees with nats.js's decoded Nats-Sequence header and with the publish ack, whatever other headers say", async () => {
    const received: Msg[] = [];
    const sub = nc.subscribe(`${tag}.out.>`, { callback: (_err, msg) => received.push(msg) });
    await nc.flush();
    const publisher = new JetStreamPublisher(nc);
    const acks = [];
    for (let i = 0; i < 30; i++) {
      const h = headers();
      // Values that look like the header, in other headers, must not be taken for it.
      h.set('X-Decoy', 'Nats-Sequence: 999999');
      h.set('traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
      acks.push(
        await publisher.publish(`${tag}.in.u${i}`, new TextEncoder().encode(`{"n":${i}}`), {
          msgId: `${tag}-${i}`,
          headers: h,
          timeoutMs: 2000,
        }),
      );
    }
    await nc.flush();
    await waitFor(
      () => received.length >= 30,
      () => `30 messages, got ${received.length}`,
      1_000,
    );
    sub.unsubscribe();
    expect(received).toHaveLength(30);
    const fast = received.map((m) => streamSequenceOf(m));
    expect(fast).toEqual(acks.map((a) => String(a.seq)));
    expect(fast).toEqual(received.map((m) => m.headers!.get('Nats-Sequence')));
  });

  it('gives undefined for a message without headers or without the header', async () => {
    const got: Msg[] = [];
    const sub = nc.subscribe(`${tag}.plain`, { callback: (_err, msg) => got.push(msg) });
    await nc.flush();
    nc.publish(`${tag}.plain`, new Uint8Array([1]));
    const h = headers();
    h.set('Other', '1');
    nc.publish(`${tag}.plain`, new Uint8Array([2]), { headers: h });
    await nc.flush();
    await waitFor(
      () => got.length >= 2,
      () => `2 messages, got ${got.length}`,
      1_000,
    );
    sub.unsubscribe();
    expect(got.map((m) => streamSequenceOf(m))).toEqual([undefined, undefined]);
  });

  it('falls back to the decoded headers for a message object shaped otherwise', () => {
    const h = headers();
    h.set('Nats-Sequence', '42');
    expect(streamSequenceOf({ headers: h } as unknown as Msg)).toBe('42');
    expect(streamSequenceOf({} as unknown as Msg)).toBeUndefined();
  });
});
