import { randomBytes } from 'node:crypto';
import { JetStreamPublisher } from '@herald/messaging';
import { connect, headers, nanos, type JetStreamManager, type NatsConnection } from 'nats';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const data = (s: string) => new TextEncoder().encode(s);

describe('JetStreamPublisher (real NATS with JetStream)', () => {
  const tag = `jsp${randomBytes(4).toString('hex')}`;
  const stream = tag.toUpperCase();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: JetStreamPublisher;

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${tag}.in.>`], duplicate_window: nanos(60_000), max_msgs_per_subject: 5 });
    publisher = new JetStreamPublisher(nc);
  });

  afterAll(async () => {
    await jsm?.streams.delete(stream).catch(() => undefined);
    await nc?.close();
  });

  it('resolves with the stream sequence of each message, in publish order, with its headers stored', async () => {
    const before = (await jsm.streams.info(stream)).state.last_seq;
    const h = headers();
    h.set('Herald-Run', 'r1');
    const acks = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        publisher.publish(`${tag}.in.a${i}`, data(`m${i}`), { msgId: `${tag}-${i}`, timeoutMs: 2000, ...(i === 0 ? { headers: h } : {}) }),
      ),
    );
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 200 }, (_, i) => before + i + 1));
    expect(acks.every((a) => a.stream === stream && !a.duplicate)).toBe(true);
    const first = await jsm.streams.getMessage(stream, { seq: acks[0].seq });
    expect(new TextDecoder().decode(first.data)).toBe('m0');
    expect(first.header.get('Herald-Run')).toBe('r1');
    expect(first.header.get('Nats-Msg-Id')).toBe(`${tag}-0`);
  });

  it('stores a message once per Nats-Msg-Id: a repeat is acked as a duplicate with the first sequence', async () => {
    const first = await publisher.publish(`${tag}.in.dup`, data('once'), { msgId: `${tag}-dup`, timeoutMs: 2000 });
    const again = await publisher.publish(`${tag}.in.dup`, data('twice'), { msgId: `${tag}-dup`, timeoutMs: 2000 });
    expect(again).toEqual({ stream, seq: first.seq, duplicate: true });
  });

  it('rejects with code 503 when no stream takes the subject', async () => {
    await expect(publisher.publish(`${tag}.nowhere`, data('x'), { msgId: `${tag}-x`, timeoutMs: 2000 })).rejects.toMatchObject({
      code: '503',
    });
  });

  it("rejects with JetStream's error when the stream refuses the message", async () => {
    const h = headers();
    h.set('Nats-Expected-Last-Sequence', '1');
    await expect(
      publisher.publish(`${tag}.in.expect`, data('x'), { msgId: `${tag}-expect`, timeoutMs: 2000, headers: h }),
    ).rejects.toMatchObject({ code: '400', api_error: { err_code: 10071 } });
  });

  it('rejects with code TIMEOUT when no ack comes in time, and a late ack changes nothing', async () => {
    // A core subscriber that never answers stands in for a stream that does not ack.
    const mute = nc.subscribe(`${tag}.mute`);
    await nc.flush();
    const started = Date.now();
    await expect(publisher.publish(`${tag}.mute`, data('x'), { msgId: `${tag}-mute`, timeoutMs: 150 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    mute.unsubscribe();
    // The publisher still works afterwards.
    await expect(publisher.publish(`${tag}.in.after`, data('y'), { msgId: `${tag}-after`, timeoutMs: 2000 })).resolves.toMatchObject({
      stream,
    });
  });

  it('rejects what is still waiting when the connection closes', async () => {
    const own = await connect({ servers: NATS_URL });
    const p = new JetStreamPublisher(own);
    own.subscribe(`${tag}.mute2`);
    await own.flush();
    const waiting = p.publish(`${tag}.mute2`, data('x'), { msgId: `${tag}-m2`, timeoutMs: 10_000 });
    await own.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });
});
