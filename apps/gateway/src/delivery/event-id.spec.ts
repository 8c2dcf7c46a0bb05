import { isEventId, isLaterEventId } from './event-id';

describe('event ids', () => {
  it('compares numerically, beyond 2^53', () => {
    expect(isLaterEventId('10', '9')).toBe(true);
    expect(isLaterEventId('9', '10')).toBe(false);
    expect(isLaterEventId('5', '5')).toBe(false);
    expect(isLaterEventId('9007199254740993', '9007199254740992')).toBe(true);
  });

  it('recognizes decimal ids only', () => {
    expect(isEventId('0')).toBe(true);
    expect(isEventId('123')).toBe(true);
    expect(isEventId('01')).toBe(false);
    expect(isEventId('1e3')).toBe(false);
    expect(isEventId(12)).toBe(false);
  });
});
