import { chunkMarkdown, splitToFit, TITLE_SEPARATOR } from './markdown-chunker';

/** n distinct words of 4 characters: about 5n characters with their spaces. */
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${String(i).padStart(3, '0')}`).join(' ');
const sentence = (n: number) => `${words(n)}.`;

describe('chunkMarkdown', () => {
  it('takes the title from the first H1 and titles each chunk "Document › Section"', () => {
    const doc = chunkMarkdown(
      'guide',
      `# The Guide\n\nIntro ${sentence(125)}\n\n## Setup\n\n${sentence(130)}\n\n## Usage\n\n${sentence(130)}\n`,
    );
    expect(doc.title).toBe('The Guide');
    expect(doc.chunks.map((c) => c.title)).toEqual(['The Guide', `The Guide${TITLE_SEPARATOR}Setup`, `The Guide${TITLE_SEPARATOR}Usage`]);
    expect(doc.chunks[0].content).toBe(`Intro ${sentence(125)}`);
  });

  it('numbers chunk ids <docId>#<n> from 1 in document order', () => {
    const doc = chunkMarkdown('ops', `# Ops\n\n## A\n\n${sentence(130)}\n\n## B\n\n${sentence(130)}\n\n## C\n\n${sentence(130)}`);
    expect(doc.chunks.map((c) => c.id)).toEqual(['ops#1', 'ops#2', 'ops#3']);
  });

  it('falls back to a title made from the document id', () => {
    expect(chunkMarkdown('resume-and-replay', 'Some text.').title).toBe('Resume and replay');
  });

  it('keeps every chunk within maxChars and loses no words', () => {
    const body = Array.from({ length: 12 }, (_, i) => `## Section ${i}\n\n${sentence(40 + i * 25)}\n\n${sentence(30)}`).join('\n\n');
    const doc = chunkMarkdown('big', `# Big\n\n${body}`);
    for (const c of doc.chunks) expect(c.content.length).toBeLessThanOrEqual(900);
    const source = body.match(/w\d{3}/g)!;
    const chunked = doc.chunks
      .map((c) => c.content)
      .join(' ')
      .match(/w\d{3}/g)!;
    expect(chunked).toEqual(source);
  });

  it('cuts a long section into chunks of similar size rather than leaving a scrap', () => {
    const paragraphs = Array.from({ length: 6 }, () => sentence(45)).join('\n\n'); // 6 × 225 chars
    const doc = chunkMarkdown('long', `# Long\n\n## Only\n\n${paragraphs}`);
    const sizes = doc.chunks.map((c) => c.content.length);
    expect(sizes.length).toBe(2);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(600);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(900);
  });

  it('joins consecutive short sections into one chunk, keeping each heading', () => {
    const doc = chunkMarkdown('faq', '# FAQ\n\n## Why?\n\nBecause.\n\n## How?\n\nLike this.\n\n## When?\n\nNow.');
    expect(doc.chunks).toHaveLength(1);
    expect(doc.chunks[0].title).toBe(`FAQ${TITLE_SEPARATOR}Why?; How?; When?`);
    expect(doc.chunks[0].content).toBe('Because.\n\nHow?\n\nLike this.\n\nWhen?\n\nNow.');
  });

  it('ignores headings and blank lines inside code fences', () => {
    const md = '# Code\n\n## Example\n\n```sh\n# not a heading\n\necho hi\n```\n\nAfter.';
    const doc = chunkMarkdown('code', md);
    expect(doc.chunks).toHaveLength(1);
    expect(doc.chunks[0].title).toBe(`Code${TITLE_SEPARATOR}Example`);
    expect(doc.chunks[0].content).toBe('```sh\n# not a heading\n\necho hi\n```\n\nAfter.');
  });

  it('strips Markdown markup from headings', () => {
    const doc = chunkMarkdown('x', '# The `chat:send` **event**\n\n## See [the docs](http://x) ##\n\nText.');
    expect(doc.title).toBe('The chat:send event');
    expect(doc.chunks[0].title).toBe(`The chat:send event${TITLE_SEPARATOR}See the docs`);
  });

  it('produces no chunks for an empty document', () => {
    expect(chunkMarkdown('empty', '# Empty\n\n\n').chunks).toEqual([]);
  });

  it('handles CRLF line endings', () => {
    const doc = chunkMarkdown('crlf', '# T\r\n\r\n## S\r\n\r\nLine one\r\nline two\r\n');
    expect(doc.chunks[0].content).toBe('Line one\nline two');
  });
});

describe('splitToFit', () => {
  it('cuts at sentences before words, and at words before characters', () => {
    const text = `${sentence(10)} ${sentence(10)} ${sentence(10)}`;
    const parts = splitToFit(text, 80);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(80);
      expect(p.endsWith('.') || /w\d{3}$/.test(p)).toBe(true);
    }
    expect(splitToFit('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('returns short text unchanged', () => {
    expect(splitToFit('short', 10)).toEqual(['short']);
  });
});
