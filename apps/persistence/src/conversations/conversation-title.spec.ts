import { deriveConversationTitle, FALLBACK_TITLE, MAX_TITLE_CHARS } from './conversation-title';

describe('deriveConversationTitle', () => {
  it('uses the first non-blank line, whitespace collapsed', () => {
    expect(deriveConversationTitle('\n  \n  What   is\tNATS\u00a0JetStream?  \nMore details here')).toBe('What is NATS JetStream?');
  });

  it('keeps a title of exactly 80 characters as is', () => {
    const line = 'a'.repeat(MAX_TITLE_CHARS);
    expect(deriveConversationTitle(line)).toBe(line);
  });

  it('cuts a long line at a word boundary and ends it with an ellipsis', () => {
    const title = deriveConversationTitle(`${'word '.repeat(30)}end`);
    expect(Array.from(title).length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    expect(title.endsWith('word…')).toBe(true);
  });

  it('cuts a long word-less line hard at 79 characters plus the ellipsis', () => {
    const title = deriveConversationTitle('x'.repeat(200));
    expect(title).toBe(`${'x'.repeat(79)}…`);
    expect(title.length).toBe(MAX_TITLE_CHARS);
  });

  it('never splits a surrogate pair', () => {
    const title = deriveConversationTitle('😀'.repeat(100));
    expect(Array.from(title)).toHaveLength(MAX_TITLE_CHARS);
    expect(title).toBe(`${'😀'.repeat(79)}…`);
    expect(title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/); // no lone surrogate
  });

  it('falls back when there is nothing to use', () => {
    expect(deriveConversationTitle(' \n\t ')).toBe(FALLBACK_TITLE);
  });
});
