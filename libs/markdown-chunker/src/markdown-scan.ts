/**
 * The line-level scanning of the Markdown chunker. Markdown is user input (an admin posts
 * documents to `POST /v1/knowledge`, up to 1,000,000 characters each, and the persistence
 * service chunks them on its event loop), so everything here runs in time linear in its
 * input, by plain string scanning rather than regular expressions that can backtrack: a
 * heading line `# x` + 4,000 spaces + `x` took 23 s with the former
 * /^(#{1,6})\s+(.*?)\s*#*\s*$/ (the time grew with the cube of the line's length). Each
 * function does what the regular expression it replaces did; markdown-scan.spec.ts checks
 * them against those expressions on short random inputs.
 */

const HASH = 0x23;

/**
 * Whether a UTF-16 code unit is what `\s` matches (and what `trim()` removes): ECMAScript
 * WhiteSpace and LineTerminator.
 */
export function isWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * An ATX heading: one to six `#`, whitespace, the text, optionally closed by a run of `#`;
 * surrounding whitespace is not part of the text. (What /^(#{1,6})\s+(.*?)\s*#*\s*$/ matched,
 * found in one pass: the text is what remains after the longest trailing whitespace, `#`s,
 * whitespace; like `.`, it holds no line terminator.)
 */
export function parseHeading(line: string): { level: number; text: string } | null {
  let level = 0;
  while (level <= 6 && level < line.length && line.charCodeAt(level) === HASH) level++; // 7 is already too many
  if (level < 1 || level > 6 || level === line.length || !isWhitespace(line.charCodeAt(level))) return null;
  let start = level;
  while (start < line.length && isWhitespace(line.charCodeAt(start))) start++;
  let end = line.length;
  while (end > start && isWhitespace(line.charCodeAt(end - 1))) end--;
  while (end > start && line.charCodeAt(end - 1) === HASH) end--;
  while (end > start && isWhitespace(line.charCodeAt(end - 1))) end--;
  const text = line.slice(start, end);
  for (let i = 0; i < text.length; i++) if (isLineTerminator(text.charCodeAt(i))) return null;
  return { level, text };
}

/** What `.` does not match: \n, \r, U+2028, U+2029 (a line here has only the last two). */
function isLineTerminator(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029;
}

/** A line that opens or closes a code fence: optional whitespace, then ``` or ~~~. */
export function isFence(line: string): boolean {
  const rest = line.trimStart();
  return rest.startsWith('```') || rest.startsWith('~~~');
}

/**
 * Where an oversized block may be cut, most natural first: at line breaks, then at the
 * whitespace after a sentence (`.` `!` `?`), after a clause (`;` `:` `,`), after any word.
 */
export const CUT_LEVELS = 4;
const SENTENCE_ENDS = new Set(['.', '!', '?']);
const CLAUSE_ENDS = new Set([';', ':', ',']);

/**
 * The text's parts between the cut points of a level, trimmed (lines only at their end, so
 * code keeps its indentation), empty ones left out: what `text.split(re)` then trim gave with
 * /\n/, /(?<=[.!?])\s+/, /(?<=[;:,])\s+/, /\s+/, in one pass. A run of whitespace is one cut,
 * after a sentence or a clause only if the character before the run ends one.
 */
export function cutAt(text: string, level: number): string[] {
  const out: string[] = [];
  if (level === 0) {
    for (const line of text.split('\n')) {
      const trimmed = line.trimEnd();
      if (trimmed) out.push(trimmed);
    }
    return out;
  }
  const ends = level === 1 ? SENTENCE_ENDS : level === 2 ? CLAUSE_ENDS : null;
  let pieceStart = 0;
  // Each run of whitespace once, found by a native search: a match of /\s+/ always succeeds
  // where it starts, at the start of a run, and ends at its end (i walks back to that start).
  const runs = /\s+/g;
  while (runs.test(text)) {
    const runEnd = runs.lastIndex;
    let i = runEnd - 1;
    while (i > pieceStart && isWhitespace(text.charCodeAt(i - 1))) i--;
    if (!ends || (i > 0 && ends.has(text[i - 1]))) {
      // A piece after a cut starts on a non-space and ends before one: only the first needs trimming.
      const piece = pieceStart === 0 ? text.slice(0, i).trim() : text.slice(pieceStart, i);
      if (piece) out.push(piece);
      pieceStart = runEnd;
    }
  }
  const last = text.slice(pieceStart).trim();
  if (last) out.push(last);
  return out;
}

/**
 * `[text](url)` becomes `text`, scanning left to right as /\[([^\]]*)\]\([^)]*\)/g did: the text
 * runs to the first `]` after the `[`, which `(` must follow at once, and the url to the first
 * `)`. That pattern, tried at every `[` of a run of `[` with no `]` after it, rescanned the
 * rest of the line each time; here the next `]` and `)` are looked up once and reused until
 * the scan passes them.
 */
export function withoutLinkTargets(text: string): string {
  let out = '';
  let copied = 0;
  let nextClose = -1; // the first `]` at or after the current `[`, once looked up
  let nextParen = -1; // the first `)` at or after the current `(`, once looked up
  for (let open = text.indexOf('['); open !== -1; open = text.indexOf('[', open + 1)) {
    if (nextClose <= open) nextClose = text.indexOf(']', open + 1);
    if (nextClose === -1) break; // no `]` after this `[`, nor after any later one
    if (text.charCodeAt(nextClose + 1) !== 0x28 /* ( */) continue;
    if (nextParen <= nextClose + 1) nextParen = text.indexOf(')', nextClose + 2);
    if (nextParen === -1) break; // no `)` after this `(`, nor after any later one
    out += text.slice(copied, open) + text.slice(open + 1, nextClose);
    copied = nextParen + 1;
    open = nextParen;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
