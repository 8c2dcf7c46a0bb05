import fc from 'fast-check';
import { cutAt, isFence, isWhitespace, parseHeading, withoutLinkTargets } from './markdown-scan';

// The regular expressions the scanners replace, as oracles: on inputs of a few dozen
// characters their super-linear worst case does not matter, and whatever they did on
// Markdown, the scanners must do the same.
/* eslint-disable regexp/no-super-linear-backtracking, regexp/no-super-linear-move -- the former patterns, kept as oracles on short inputs */
const HEADING_RE = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE_RE = /^\s*(?:```|~~~)/;
const LINK_RE = /\[([^\]]*)\]\([^)]*\)/g;
const SPLIT_POINTS = [/\n/, /(?<=[.!?])\s+/, /(?<=[;:,])\s+/, /\s+/];
/* eslint-enable regexp/no-super-linear-backtracking, regexp/no-super-linear-move */

/** Strings of the characters that matter to Markdown structure, whitespace of every kind included. */
const markdownish = (maxLength: number) =>
  fc
    .array(
      fc.constantFrom(
        ...['#', '#', '#', ' ', ' ', '\t', '\u00a0', '\u2003', '\u2028', '\u2029', '\ufeff', '\v', '\n'],
        ...['a', 'b', '[', ']', '(', ')', '`', '~', '*', '_', '.', '!', '?', ';', ':', ',', '|', '-'],
      ),
      { maxLength },
    )
    .map((chars) => chars.join(''));

describe('isWhitespace', () => {
  it('is what \\s matches, for every UTF-16 code unit', () => {
    for (let code = 0; code <= 0xffff; code++) {
      if (isWhitespace(code) !== /\s/.test(String.fromCharCode(code))) throw new Error(`differs at U+${code.toString(16)}`);
    }
  });
});

describe('parseHeading', () => {
  it('finds what /^(#{1,6})\\s+(.*?)\\s*#*\\s*$/ found', () => {
    fc.assert(
      fc.property(markdownish(24), (line) => {
        const m = HEADING_RE.exec(line);
        expect(parseHeading(line)).toEqual(m ? { level: m[1].length, text: m[2] } : null);
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads levels, closing hashes and surrounding whitespace', () => {
    expect(parseHeading('## Setup ##  ')).toEqual({ level: 2, text: 'Setup' });
    expect(parseHeading('#\tTabs\t#')).toEqual({ level: 1, text: 'Tabs' });
    expect(parseHeading('###### Six')).toEqual({ level: 6, text: 'Six' });
    expect(parseHeading('####### Seven')).toBeNull();
    expect(parseHeading('#NoSpace')).toBeNull();
    expect(parseHeading('#')).toBeNull();
    expect(parseHeading('# a # b #')).toEqual({ level: 1, text: 'a # b' });
    expect(parseHeading('# ')).toEqual({ level: 1, text: '' });
  });
});

describe('isFence', () => {
  it('is what /^\\s*(```|~~~)/ tested', () => {
    fc.assert(
      fc.property(markdownish(12), (line) => {
        expect(isFence(line)).toBe(FENCE_RE.test(line));
      }),
      { numRuns: 5_000 },
    );
    expect(isFence('  ```ts')).toBe(true);
    expect(isFence('\t~~~')).toBe(true);
    expect(isFence('``')).toBe(false);
  });
});

describe('cutAt', () => {
  it('gives the trimmed, non-empty parts of text.split at lines, sentences, clauses and words', () => {
    fc.assert(
      fc.property(markdownish(40), fc.integer({ min: 0, max: 3 }), (text, level) => {
        const expected = text
          .split(SPLIT_POINTS[level])
          .map((p) => (level === 0 ? p.trimEnd() : p.trim()))
          .filter(Boolean);
        expect(cutAt(text, level)).toEqual(expected);
      }),
      { numRuns: 5_000 },
    );
  });

  it('cuts after sentence and clause ends only', () => {
    expect(cutAt('One. Two! Three, four; five', 1)).toEqual(['One.', 'Two!', 'Three, four; five']);
    expect(cutAt('Three, four; five six', 2)).toEqual(['Three,', 'four;', 'five six']);
    expect(cutAt('  a \u00a0 b\tc  ', 3)).toEqual(['a', 'b', 'c']);
    expect(cutAt('  code\n\n    indented  \n', 0)).toEqual(['  code', '    indented']);
  });
});

describe('withoutLinkTargets', () => {
  it("is what .replace(/\\[([^\\]]*)\\]\\([^)]*\\)/g, '$1') gave", () => {
    fc.assert(
      fc.property(markdownish(30), (text) => {
        expect(withoutLinkTargets(text)).toBe(text.replace(LINK_RE, '$1'));
      }),
      { numRuns: 5_000 },
    );
    const links = fc.array(fc.constantFrom('[', ']', '(', ')', 'a', ' ', '$1', '$&'), { maxLength: 30 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(links, (text) => {
        expect(withoutLinkTargets(text)).toBe(text.replace(LINK_RE, '$1'));
      }),
      { numRuns: 5_000 },
    );
  });

  it('keeps the text of each link', () => {
    expect(withoutLinkTargets('See [the docs](http://x) and [[nested](y)] [no](target')).toBe('See the docs and [nested] [no](target');
  });
});
