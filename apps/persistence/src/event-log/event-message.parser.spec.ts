import { subjects, type StoredEvent } from '@herald/contracts';
import { buildHeaders, encodeJson, HEADER } from '@herald/messaging';
import { parseEventMessage, withoutNul, type EventMessage } from './event-message.parser';

const s = subjects('herald');
const conversationId = '3f6c3f2a-59a4-4a8e-9f0e-2a8a44c2a001';
const runId = '3f6c3f2a-59a4-4a8e-9f0e-2a8a44c2a002';
const event: StoredEvent = {
  type: 'status',
  runId,
  conversationId,
  ts: '2026-11-22T07:01:02.345Z',
  progress: 0.2,
  data: { step: 'routing', message: 'Classifying your query…' },
};

function message(body: unknown, opts: { user?: string; subject?: string; raw?: Uint8Array } = {}): EventMessage {
  return {
    seq: 42,
    subject: opts.subject ?? s.events('alice', conversationId, runId),
    data: opts.raw ?? encodeJson(body),
    headers: opts.user === undefined ? undefined : buildHeaders({ [HEADER.user]: opts.user }),
  };
}

describe('parseEventMessage', () => {
  it('reads a valid event with its sequence as id and the user encoded in its subject (the one it was delivered to)', () => {
    const result = parseEventMessage(message(event, { subject: s.events('a.b *>', conversationId, runId), user: 'someone else' }));
    expect(result).toEqual({
      events: [{ id: 42, userId: 'a.b *>', conversationId, runId, type: 'status', envelope: event, at: event.ts }],
      refused: [],
    });
  });

  it('reads a group-committed message: one event per entry, id = sequence × 1000 + index; an invalid entry alone is refused', () => {
    const second = { ...event, progress: 0.3 };
    const result = parseEventMessage(message([event, { ...event, type: 'nope' }, second]));
    expect(result.events.map((e) => [e.id, e.envelope])).toEqual([
      [42_000, event],
      [42_002, second],
    ]);
    expect(result.refused).toHaveLength(1);
  });

  it('falls back to the Herald-User header when the subject is not an event subject', () => {
    const result = parseEventMessage(message(event, { subject: 'legacy.subject', user: 'bob@example.com' }));
    expect(result.events[0].userId).toBe('bob@example.com');
  });

  it.each([
    ['not JSON', message(null, { raw: new TextEncoder().encode('{nope'), user: 'u' })],
    ['an unknown type', message({ ...event, type: 'nope' }, { user: 'u' })],
    ['data of the wrong shape', message({ ...event, data: { step: 1 } }, { user: 'u' })],
    ['a run id that is not a UUID', message({ ...event, runId: 'r1' }, { user: 'u' })],
    ['no user anywhere', message(event, { subject: 'weird.subject' })],
    ['a body that is neither an event nor an array', message('text', { user: 'u' })],
  ])('refuses %s with a reason', (_label, msg) => {
    const result = parseEventMessage(msg);
    expect(result.events).toEqual([]);
    expect(result.refused).toHaveLength(1);
    expect(result.refused[0].length).toBeGreaterThan(0);
  });

  it('drops NUL characters Postgres cannot store, and uses the read time for a bad ts', () => {
    const now = new Date('2026-11-22T08:00:00.000Z');
    const result = parseEventMessage(message({ ...event, ts: 'soon', data: { step: 'a\u0000b', message: 'm' } }, { user: 'u' }), now);
    expect(result.events[0].envelope.data).toEqual({ step: 'ab', message: 'm' });
    expect(result.events[0].at).toBe(now.toISOString());
  });

  it('strips NUL deeply, in keys too', () => {
    expect(withoutNul({ 'k\u0000': ['\u0000x', { y: 'z\u0000' }], n: 1 })).toEqual({ k: ['x', { y: 'z' }], n: 1 });
  });
});
