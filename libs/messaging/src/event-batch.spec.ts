import fc from 'fast-check';
import { encodeJson, decodeJson } from './codec';
import {
  batchMsgId,
  EVENT_ID_FACTOR,
  eventIdOf,
  firstEventIdAt,
  firstSequenceAfter,
  lastEventIdUpTo,
  MAX_BATCH_EVENTS,
  mayGroup,
  msgIdKeys,
  packEvents,
  packedSize,
  unpackEvents,
} from './event-batch';

const event = fc.record({
  type: fc.constantFrom('status', 'message_delta', 'tool_completed'),
  progress: fc.double({ min: 0, max: 1, noNaN: true }),
  data: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
});

/** A stream: each message either a single event as stored before group commit, or a group. */
const stream = fc.tuple(
  fc.array(fc.constant(1), { maxLength: 20 }),
  fc.array(fc.integer({ min: 1, max: MAX_BATCH_EVENTS }), { minLength: 1, maxLength: 8 }),
);

describe('event ids', () => {
  it('strictly increase along a stream, across messages stored before group commit and groups after', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 1, max: 1e9 }), ([legacy, groups], start) => {
        const ids: bigint[] = [];
        let seq = start;
        for (const _ of legacy) ids.push(BigInt(unpackEvents(seq++, {})![0].id));
        for (const count of groups) {
          for (const { id } of unpackEvents(
            seq++,
            Array.from({ length: count }, () => ({})),
          )!)
            ids.push(BigInt(id));
        }
        for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
      }),
    );
  });

  it('a replay from firstSequenceAfter(id) misses no later event; lastEventIdUpTo(seq) is past every id stored up to seq', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9e12 }), fc.integer({ min: 0, max: MAX_BATCH_EVENTS - 1 }), (seq, index) => {
        const id = eventIdOf(seq, index);
        expect(firstSequenceAfter(id)).toBe(seq);
        expect(firstSequenceAfter(String(seq))).toBeLessThanOrEqual(seq); // an id stored before group commit
        expect(BigInt(lastEventIdUpTo(seq))).toBeGreaterThanOrEqual(BigInt(id));
        expect(BigInt(lastEventIdUpTo(seq))).toBeLessThan(BigInt(firstEventIdAt(seq + 1)));
        expect(BigInt(firstEventIdAt(seq))).toBeLessThanOrEqual(BigInt(id));
        expect(Number.isSafeInteger(Number(id))).toBe(true);
      }),
    );
    expect(firstSequenceAfter('0')).toBe(1);
    expect(eventIdOf(1042, 3)).toBe(String(1042 * EVENT_ID_FACTOR + 3));
  });
});

describe('packEvents / unpackEvents', () => {
  it('unpack(pack(events)) gives the events back, in order, with consecutive ids', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: MAX_BATCH_EVENTS }), fc.integer({ min: 1, max: 1e9 }), (events, seq) => {
        const encoded = events.map((e) => encodeJson(e));
        const body = packEvents(encoded);
        expect(body.byteLength).toBe(
          packedSize(
            encoded.length,
            encoded.reduce((n, e) => n + e.byteLength, 0),
          ),
        );
        const unpacked = unpackEvents(seq, decodeJson(body))!;
        expect(unpacked.map((u) => u.event)).toEqual(JSON.parse(JSON.stringify(events)));
        expect(unpacked.map((u) => u.id)).toEqual(events.map((_, i) => eventIdOf(seq, i)));
      }),
    );
  });

  it('reads a single event stored before group commit with its sequence as id; refuses what is neither', () => {
    expect(unpackEvents(42, { type: 'status' })).toEqual([{ id: '42', event: { type: 'status' } }]);
    expect(unpackEvents(42, 'text')).toBeNull();
    expect(unpackEvents(42, null)).toBeNull();
    expect(
      unpackEvents(
        42,
        Array.from({ length: EVENT_ID_FACTOR + 1 }, () => ({})),
      ),
    ).toBeNull();
  });
});

describe('batchMsgId / msgIdKeys', () => {
  const rest = fc.stringMatching(/^[a-z0-9]{1,6}$/);
  const prefix = fc.tuple(fc.uuid(), fc.integer({ min: 0, max: 99 })).map(([run, step]) => `${run}:${step}:`);

  it('msgIdKeys(batchMsgId(keys)) gives back the keys of a group, in order', () => {
    fc.assert(
      fc.property(prefix, fc.array(rest, { minLength: 1, maxLength: MAX_BATCH_EVENTS }), (p, rests) => {
        const keys = rests.map((r) => p + r);
        for (const k of keys) expect(mayGroup(keys[0], k)).toBe(true);
        expect(msgIdKeys(batchMsgId(keys))).toEqual(keys);
      }),
    );
    expect(batchMsgId(['r:1:e3', 'r:1:e4', 'r:1:d2'])).toBe('r:1:e3,e4,d2');
    expect(batchMsgId(['r:o:terminal'])).toBe('r:o:terminal');
    expect(msgIdKeys('r:o:terminal')).toEqual(['r:o:terminal']);
  });

  it('keys of different prefixes, or without one, never share a message', () => {
    expect(mayGroup('r:1:e1', 'r:2:e1')).toBe(false);
    expect(mayGroup('r:1:e1', 'r:1:x:e1')).toBe(false);
    expect(mayGroup('plain', 'plain2')).toBe(false);
    expect(mayGroup('r:1:e1', 'r:1:e,2')).toBe(false);
  });

  /**
   * JetStream de-duplicates by Nats-Msg-Id. A model of it, and of a job whose first attempt
   * grouped at random and whose retry (after the earlier attempt's messages are read, as
   * EarlierAttempts does) sends, alone, only the keys it did not find: every event is stored
   * exactly once, whatever the grouping, even when the first attempt stopped anywhere.
   */
  it('retry de-dup: a retry that groups differently stores no event twice and loses none', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (count, firstSizes, stopAt) => {
          const keys = Array.from({ length: count }, (_, i) => `run:3:e${i + 1}`);
          const stored = new Map<string, string[]>(); // msgId → keys of its events
          const store = (group: string[]) => {
            const msgId = batchMsgId(group);
            if (!stored.has(msgId)) stored.set(msgId, group);
          };
          // The first attempt: groups of random sizes, stopped after some of them.
          let at = 0;
          for (const size of firstSizes) {
            if (at >= count || stored.size >= stopAt % (firstSizes.length + 1)) break;
            store(keys.slice(at, at + size));
            at += size;
          }
          const found = new Set([...stored.keys()].flatMap(msgIdKeys));
          // A publish retry of a first-attempt group (same group, same msgId) is dropped.
          const before = stored.size;
          for (const group of [...stored.values()]) store(group);
          expect(stored.size).toBe(before);
          // The retry: what it did not find, one message each.
          for (const key of keys) if (!found.has(key)) store([key]);
          const events = [...stored.values()].flat();
          expect(events.sort()).toEqual([...keys].sort());
        },
      ),
    );
  });
});
