import { ErrorCode, HeraldError } from '@herald/contracts';
import { decodeConversationCursor, encodeConversationCursor } from './conversation-cursor';

const cursor = { updatedAt: '2026-11-22T07:01:02.345678Z', id: '0b0f6c1e-2f57-4a43-9d3e-6a1f3f2f9c11' };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof HeraldError ? err.code : 'not a HeraldError';
  }
}

describe('conversation cursor', () => {
  it('round-trips, keeping microseconds', () => {
    const encoded = encodeConversationCursor(cursor);
    expect(encoded).toMatch(/^[\w-]+$/);
    expect(decodeConversationCursor(encoded)).toEqual(cursor);
  });

  it('accepts a timestamp without fractional seconds and lower-cases the id', () => {
    const encoded = encodeConversationCursor({ updatedAt: '2026-01-01T00:00:00Z', id: cursor.id.toUpperCase() });
    expect(decodeConversationCursor(encoded)).toEqual({ updatedAt: '2026-01-01T00:00:00Z', id: cursor.id });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['no separator', Buffer.from('2026-11-22T07:01:02Z').toString('base64url')],
    ['bad id', Buffer.from('2026-11-22T07:01:02Z|not-a-uuid').toString('base64url')],
    ['bad date', Buffer.from(`yesterday|${cursor.id}`).toString('base64url')],
    ['impossible date', Buffer.from(`2026-13-45T99:99:99Z|${cursor.id}`).toString('base64url')],
    ['extra part', Buffer.from(`2026-11-22T07:01:02Z|${cursor.id}|x`).toString('base64url')],
    ['too long', 'A'.repeat(500)],
  ])('refuses %s as INVALID_INPUT', (_label, value) => {
    expect(codeOf(() => decodeConversationCursor(value))).toBe(ErrorCode.INVALID_INPUT);
  });
});
