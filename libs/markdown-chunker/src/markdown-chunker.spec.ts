import fc from 'fast-check';
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

  it('cuts exactly as the former regular-expression version did', () => {
    const text = fc
      .array(fc.constantFrom('word', 'a', ' ', ' ', '  ', '\t', '\n', '\u00a0', '.', '!', ',', ';', '  code'), { maxLength: 60 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 40 }), (t, max) => {
        expect(splitToFit(t, max)).toEqual(formerSplitToFit(t, max));
      }),
      { numRuns: 5_000 },
    );
  });
});

/** splitToFit as it was before it scanned strings itself (its patterns are linear). */
function formerSplitToFit(text: string, max: number, level = 0): string[] {
  const splitPoints = [/\n/, /(?<=[.!?])\s+/, /(?<=[;:,])\s+/, /\s+/];
  if (text.length <= max) return [text];
  if (level >= splitPoints.length) {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += max) out.push(text.slice(i, i + max));
    return out;
  }
  const parts = text
    .split(splitPoints[level])
    .map((p) => (level === 0 ? p.trimEnd() : p.trim()))
    .filter(Boolean);
  if (parts.length <= 1) return formerSplitToFit(text, max, level + 1);
  const joiner = level === 0 ? '\n' : ' ';
  const pieces = parts.flatMap((p) => formerSplitToFit(p, max, level + 1));
  const total = pieces.reduce((n, p) => n + p.length, 0) + joiner.length * Math.max(0, pieces.length - 1);
  const target = total / Math.max(1, Math.ceil(total / max));
  const out: string[] = [];
  let current = '';
  for (const piece of pieces) {
    if (current && (current.length >= target || current.length + joiner.length + piece.length > max)) {
      out.push(current);
      current = '';
    }
    current = current ? current + joiner + piece : piece;
  }
  if (current) out.push(current);
  return out;
}

/** The CPU time (user + system, in ms) that `fn` takes: steadier than wall time on a busy machine. */
function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const { user, system } = process.cpuUsage(before);
  return (user + system) / 1000;
}

// Markdown is user input. With the former regular expressions, a heading line of `# x`, 4,000
// spaces and `x` took 23 s (the time grew with the cube of its length: 50,000 spaces would
// take hours), `## ` and 50,000 `[` took 2 s, `## a`, 25,000 spaces, `#`, 25,000 spaces and
// `b` took 1.9 s; each of these now takes well under a millisecond.
describe('chunkMarkdown on hostile input', () => {
  const N = 50_000;
  const hostile: Record<string, string> = {
    '# and spaces, no newline': '#' + ' '.repeat(N),
    '# and tabs, no newline': '#' + '\t'.repeat(N),
    '# x, spaces, x': '# x' + ' '.repeat(N) + 'x',
    '# x, tabs, x': '# x' + '\t'.repeat(N) + 'x',
    '# x, no-break spaces, x': '# x' + '\u00a0'.repeat(N) + 'x',
    '## a, spaces, #, spaces, b': '## a' + ' '.repeat(N / 2) + '#' + ' '.repeat(N / 2) + 'b',
    '# , spaces and # alternating, x': '# a' + ' #'.repeat(N / 2) + ' x',
    '# , spaces, #s, x': '# ' + ' '.repeat(N / 2) + '#'.repeat(N / 2) + ' x',
    'a run of #': '#'.repeat(N),
    'a run of *': '*'.repeat(N),
    'a run of -': '-'.repeat(N),
    'a run of `': '`'.repeat(N),
    'a run of ~': '~'.repeat(N),
    'a run of |': '|'.repeat(N),
    'spaces then a fence': ' '.repeat(N) + '```',
    'fences on every line': '```\n'.repeat(N / 4),
    'nested emphasis in a heading': '## ' + '*_'.repeat(N / 2),
    'a heading of [': '## ' + '['.repeat(N),
    'a heading of [](': '## ' + '[]('.repeat(N / 3),
    'a heading of [a](': '## ' + '[a]('.repeat(N / 4),
    'a table row': '|' + ' a |'.repeat(N / 4),
    'spaces between two words': 'a' + ' '.repeat(N) + 'b',
    'sentences without words': '. '.repeat(N / 2),
    'clauses without words': ', '.repeat(N / 2),
  };

  it.each(Object.entries(hostile))('%s (50,000 characters) takes under 200 ms', (_name, markdown) => {
    let doc: ReturnType<typeof chunkMarkdown> | undefined;
    expect(cpuMs(() => (doc = chunkMarkdown('hostile', markdown)))).toBeLessThan(200);
    for (const c of doc!.chunks) expect(c.content.length).toBeLessThanOrEqual(900);
  });

  const MB = 1_000_000;
  const huge: Record<string, string> = {
    '# x, spaces, x': '# x' + ' '.repeat(MB) + 'x',
    'a heading of [': '## ' + '['.repeat(MB),
    'one line of words': 'word '.repeat(MB / 5),
    'one line of sentences': '. '.repeat(MB / 2),
    'one line without a space': 'x'.repeat(MB),
    lines: 'a line of text\n'.repeat(MB / 15),
  };

  it.each(Object.entries(huge))('%s (1 MB) takes under 2 s', (_name, markdown) => {
    let doc: ReturnType<typeof chunkMarkdown> | undefined;
    expect(cpuMs(() => (doc = chunkMarkdown('huge', markdown)))).toBeLessThan(2000);
    for (const c of doc!.chunks) expect(c.content.length).toBeLessThanOrEqual(900);
  });

  it('takes time linear in the length: four times the input takes at most about four times as long', () => {
    const shapes: Array<(n: number) => string> = [
      (n) => '# x' + ' '.repeat(n) + 'x',
      (n) => '## ' + '['.repeat(n),
      (n) => '## a' + ' '.repeat(n / 2) + '#' + ' '.repeat(n / 2) + 'b',
      (n) => '. '.repeat(n / 2),
      (n) => 'word '.repeat(n / 5),
    ];
    const fastest = (markdown: string) => Math.min(...[1, 2, 3].map(() => cpuMs(() => chunkMarkdown('scale', markdown))));
    for (const shape of shapes) {
      const small = fastest(shape(50_000));
      const large = fastest(shape(200_000));
      // Linear: about 4×; quadratic would be 16×, cubic 64×. The slack absorbs timer and GC noise.
      expect(large).toBeLessThan(8 * small + 30);
    }
  });

  it('still reads what it can of such input', () => {
    expect(chunkMarkdown('h', '# x' + ' '.repeat(N) + 'x').title).toBe('x x');
    expect(chunkMarkdown('h', '# T\n\n## ' + '['.repeat(10) + 'a](u)').chunks).toEqual([]);
    expect(chunkMarkdown('h', '# T\n\n## ' + '[['.repeat(5) + 'a](u)\n\nBody.').chunks[0].title).toBe(
      `T${TITLE_SEPARATOR}${'['.repeat(9)}a`,
    );
    const runOfHashes = chunkMarkdown('h', '#'.repeat(N));
    expect(runOfHashes.chunks.map((c) => c.content).join('')).toBe('#'.repeat(N));
  });
});
