import { encodeJson } from '@herald/messaging';
import { toAgentEvents } from './agent-event.codec';

const toAgentEvent = (id: string | number | undefined, data: Uint8Array) => toAgentEvents(id, data).events[0] ?? null;

const stored = {
  type: 'status',
  runId: 'r1',
  conversationId: 'c1',
  ts: '2026-01-01T00:00:00.000Z',
  progress: 0.1,
  data: { step: 'routing', message: 'Classifying…' },
};

describe('toAgentEvents', () => {
  it('unpacks a group-committed message: ids sequence × 1000 + index, invalid entries skipped and counted', () => {
    const second = { ...stored, progress: 0.2 };
    const { events, invalid } = toAgentEvents('42', encodeJson([stored, { ...stored, type: 'made_up' }, second]));
    expect(events).toEqual([
      { id: '42000', ...stored },
      { id: '42002', ...second },
    ]);
    expect(invalid).toBe(1);
    expect(toAgentEvents(undefined, encodeJson([stored]))).toEqual({ events: [], invalid: 1 });
  });

  it('puts the sequence first as a decimal string id (a single event, as stored before group commit)', () => {
    const event = toAgentEvent('42', encodeJson(stored));
    expect(event).toEqual({ id: '42', ...stored });
    expect(Object.keys(event!)[0]).toBe('id');
    expect(toAgentEvent(7, encodeJson(stored))?.id).toBe('7');
  });

  it('refuses a missing or malformed sequence', () => {
    expect(toAgentEvent(undefined, encodeJson(stored))).toBeNull();
    expect(toAgentEvent('4x', encodeJson(stored))).toBeNull();
    expect(toAgentEvent('-1', encodeJson(stored))).toBeNull();
  });

  it('refuses bodies that are not JSON or not events', () => {
    expect(toAgentEvent('1', new TextEncoder().encode('{nope'))).toBeNull();
    expect(toAgentEvent('1', encodeJson({ ...stored, type: 'made_up' }))).toBeNull();
    expect(toAgentEvent('1', encodeJson({ ...stored, data: { step: 1 } }))).toBeNull();
    expect(toAgentEvent('1', encodeJson(null))).toBeNull();
  });
});
