import { HeraldError } from './herald-error';
import { chatSendSchema, eventsResumeSchema, runCancelSchema } from './socket';
import { parseInput } from './validation';

const schema = chatSendSchema(20);
const valid = { conversationId: 'new', content: 'hello' };

function codeOf(payload: unknown): string | undefined {
  try {
    parseInput(schema, payload);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(HeraldError);
    return (err as HeraldError).code;
  }
}

describe('chat:send validation', () => {
  it('accepts a minimal payload and fills the defaults', () => {
    expect(parseInput(schema, valid)).toEqual({
      conversationId: 'new',
      content: 'hello',
      options: { traceLevel: 'none', stream: false, onBusy: 'enqueue' },
    });
  });

  it('trims content and lower-cases conversation ids', () => {
    const id = 'A1B2C3D4-0000-4000-8000-00000000000F';
    expect(parseInput(schema, { conversationId: id, content: '  hi  ' })).toMatchObject({
      conversationId: id.toLowerCase(),
      content: 'hi',
    });
  });

  it.each([
    ['a string', 'hello'],
    ['null', null],
    ['an array', [valid]],
    ['a number', 42],
    ['missing content', { conversationId: 'new' }],
    ['missing conversationId', { content: 'x' }],
    ['numeric content', { conversationId: 'new', content: 5 }],
    ['empty content', { conversationId: 'new', content: '' }],
    ['whitespace content', { conversationId: 'new', content: ' \n\t ' }],
    ['content over the limit', { conversationId: 'new', content: 'x'.repeat(21) }],
    ['content with a NUL character', { conversationId: 'new', content: 'a\u0000b' }],
    ['a non-UUID conversation', { conversationId: 'abc', content: 'x' }],
    ['an unknown traceLevel', { ...valid, options: { traceLevel: 'loud' } }],
    ['an unknown onBusy', { ...valid, options: { onBusy: 'queue' } }],
    ['a non-boolean stream', { ...valid, options: { stream: 'yes' } }],
    ['an unknown option', { ...valid, options: { colour: 'red' } }],
    ['an unknown field', { ...valid, extra: 1 }],
    ['a long clientMessageId', { ...valid, clientMessageId: 'x'.repeat(65) }],
    ['an empty clientMessageId', { ...valid, clientMessageId: '' }],
    ['a __proto__ key', JSON.parse('{"conversationId":"new","content":"x","__proto__":{"polluted":true}}')],
    ['a nested constructor key', { ...valid, options: JSON.parse('{"constructor":{"prototype":{}}}') }],
    ['a non-UUID parentMessageId', { ...valid, parentMessageId: 'msg-1' }],
    ['a non-boolean regenerate', { ...valid, regenerate: 'yes' }],
    ['an edit without content', { conversationId: 'new', parentMessageId: 'a1b2c3d4-0000-4000-8000-00000000000f' }],
    ['regenerate: false without content', { conversationId: 'new', regenerate: false }],
  ])('refuses %s with INVALID_INPUT', (_name, payload) => {
    expect(codeOf(payload)).toBe('INVALID_INPUT');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes an edit (parentMessageId with content) and a regenerate (content optional), ids lower-cased', () => {
    const id = 'A1B2C3D4-0000-4000-8000-00000000000F';
    expect(parseInput(schema, { ...valid, parentMessageId: id })).toMatchObject({ content: 'hello', parentMessageId: id.toLowerCase() });
    expect(parseInput(schema, { conversationId: 'new', parentMessageId: id, regenerate: true })).toMatchObject({
      parentMessageId: id.toLowerCase(),
      regenerate: true,
    });
    expect(codeOf({ conversationId: 'new', regenerate: true })).toBeUndefined();
    expect(() => parseInput(schema, { conversationId: 'new', parentMessageId: id })).toThrow(/content: must be a string/);
  });

  it('names the offending field in the message', () => {
    expect(() => parseInput(schema, { conversationId: 'new', content: '   ' })).toThrow(/content/);
  });

  it('counts content in characters (code points), not UTF-16 units', () => {
    const emoji = '😀'; // two UTF-16 units, one character
    expect(codeOf({ ...valid, content: emoji.repeat(20) })).toBeUndefined();
    expect(codeOf({ ...valid, content: `${emoji.repeat(19)}x` })).toBeUndefined();
    expect(codeOf({ ...valid, content: emoji.repeat(21) })).toBe('INVALID_INPUT');
    expect(codeOf({ ...valid, content: `  ${'é'.repeat(20)}  ` })).toBeUndefined();
  });

  it('accepts a 64-character clientMessageId and content exactly at the limit', () => {
    expect(codeOf({ ...valid, content: 'x'.repeat(20), clientMessageId: 'k'.repeat(64) })).toBeUndefined();
  });
});

describe('other client payloads', () => {
  it('run:cancel needs a UUID', () => {
    expect(() => parseInput(runCancelSchema, { runId: 'nope' })).toThrow(HeraldError);
  });
  it('events:resume takes decimal ids as strings or numbers', () => {
    expect(parseInput(eventsResumeSchema, { after: 41 })).toEqual({ after: '41' });
    expect(parseInput(eventsResumeSchema, { after: '0' })).toEqual({ after: '0' });
    expect(() => parseInput(eventsResumeSchema, { after: '-1' })).toThrow(HeraldError);
    expect(() => parseInput(eventsResumeSchema, { after: '1e3' })).toThrow(HeraldError);
  });
});
