import { HeraldError } from './herald-error';
import { MAX_FEEDBACK_COMMENT_CHARS, messageFeedbackSchema } from './feedback';
import { parseInput } from './validation';

const messageId = '0f8c8a7e-6f3b-4d59-9a51-6a1f0c3e2b7d';

function codeOf(payload: unknown): string | undefined {
  try {
    parseInput(messageFeedbackSchema, payload);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(HeraldError);
    return (err as HeraldError).code;
  }
}

describe('message:feedback validation', () => {
  it('accepts up, down and null, lower-cases the id, trims the comment and drops a blank one', () => {
    expect(parseInput(messageFeedbackSchema, { messageId: messageId.toUpperCase(), rating: 'up', comment: '  clear  ' })).toEqual({
      messageId,
      rating: 'up',
      comment: 'clear',
    });
    expect(parseInput(messageFeedbackSchema, { messageId, rating: 'down', comment: ' \n ' })).toEqual({ messageId, rating: 'down' });
    expect(parseInput(messageFeedbackSchema, { messageId, rating: null })).toEqual({ messageId, rating: null });
  });

  it('counts the comment in characters: 2000 emoji pass, 2001 do not', () => {
    expect(codeOf({ messageId, rating: 'up', comment: '👍'.repeat(MAX_FEEDBACK_COMMENT_CHARS) })).toBeUndefined();
    expect(codeOf({ messageId, rating: 'up', comment: 'x'.repeat(MAX_FEEDBACK_COMMENT_CHARS + 1) })).toBe('INVALID_INPUT');
    expect(codeOf({ messageId, rating: 'up', comment: 'x'.repeat(1_000_000) })).toBe('INVALID_INPUT');
  });

  it.each([
    ['no payload', undefined],
    ['a string', 'up'],
    ['an array', [{ messageId, rating: 'up' }]],
    ['no rating', { messageId }],
    ['another rating', { messageId, rating: 'meh' }],
    ['a numeric rating', { messageId, rating: 1 }],
    ['a bad UUID', { messageId: 'not-a-uuid', rating: 'up' }],
    ['a number as id', { messageId: 42, rating: 'up' }],
    ['an unknown key', { messageId, rating: 'up', stars: 5 }],
    ['a prototype key', JSON.parse(`{"messageId":"${messageId}","rating":"up","__proto__":{"x":1}}`)],
    ['a lone surrogate', { messageId, rating: 'up', comment: 'bad \ud800 text' }],
    ['a NUL', { messageId, rating: 'up', comment: 'a\u0000b' }],
    ['a comment that is not a string', { messageId, rating: 'up', comment: { text: 'x' } }],
    ['a comment without a rating', { messageId, rating: null, comment: 'why' }],
  ])('refuses %s with INVALID_INPUT', (_, payload) => {
    expect(codeOf(payload)).toBe('INVALID_INPUT');
  });

  it('keeps well-formed pairs and line breaks', () => {
    expect(parseInput(messageFeedbackSchema, { messageId, rating: 'up', comment: 'line 1\nline 2 😀' }).comment).toBe('line 1\nline 2 😀');
  });
});
