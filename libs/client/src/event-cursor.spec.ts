import type { AgentEvent } from '@herald/contracts';
import { EventCursor } from './event-cursor';

const event = (id: string): AgentEvent => ({
  id,
  type: 'status',
  runId: 'r',
  conversationId: 'c',
  ts: new Date(0).toISOString(),
  progress: 0.1,
  data: { step: 'routing', message: 'm' },
});

describe('EventCursor', () => {
  it('accepts increasing ids once and drops duplicates and older ids', () => {
    const c = new EventCursor();
    expect(['1', '2', '2', '1', '10', '9'].map((id) => c.offer(event(id)))).toEqual([true, true, false, false, true, false]);
    expect(c.lastId).toBe('10');
  });

  it('compares ids as numbers, beyond 2^53', () => {
    const c = new EventCursor();
    expect(c.offer(event('9007199254740993'))).toBe(true);
    expect(c.offer(event('9007199254740992'))).toBe(false);
    expect(c.offer(event('9007199254740994'))).toBe(true);
  });

  it('holds live events during a resume and releases the new ones in id order', () => {
    const c = new EventCursor();
    c.offer(event('3'));
    expect(c.hold()).toBe(true);
    expect(c.hold()).toBe(false);
    for (const id of ['9', '4', '3', '5', '9', '8']) expect(c.offer(event(id))).toBe(false);
    expect(c.release().map((e) => e.id)).toEqual(['4', '5', '8', '9']);
    expect(c.holding).toBe(false);
    expect(c.lastId).toBe('9');
  });

  it('starts after a given id, and refuses one that is not a decimal id', () => {
    const c = new EventCursor('41');
    expect(c.lastId).toBe('41');
    expect(['40', '41', '42'].map((id) => c.offer(event(id)))).toEqual([false, false, true]);
    expect(() => new EventCursor('4x')).toThrow(TypeError);
  });
});
