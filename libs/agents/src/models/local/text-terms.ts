/** Words too common to say anything about what a query is looking for. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just let me more most my myself no nor not now of off on once only or ' +
    'other our ours ourselves out over own same she should so some such than that the their theirs them themselves then ' +
    'there these they this those through to too under until up very was we were what when where which while who whom why ' +
    'will with would you your yours yourself yourselves s t d ll m re ve don doesn didn isn aren wasn weren won wouldn ' +
    'shouldn couldn please tell explain describe show give know want need like get use using used make work works thing things ' +
    'anything something everything also really much many may might must shall us'
  ).split(' '),
);

const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Lower case; letters, digits, apostrophes and `?` kept; everything else becomes a space. */
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[^\p{L}\p{N}'?\s]/gu, ' ')
    .replace(/\?/g, ' ? ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Lower-cased words of a text, letters and digits only (so they are safe in any query syntax). */
export function words(text: string): string[] {
  return (text.toLowerCase().match(WORD_RE) ?? []).filter((w) => w.length > 0);
}

/** A light English stemmer, enough to match `retries` with `retry` and `streams` with `stream`. */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is')) return word.slice(0, -1);
  return word;
}

/** The distinct non-stopword words of a text, in order of first appearance, at most `max`. */
export function significantWords(text: string, max = 8): string[] {
  const seen = new Set<string>();
  for (const w of words(text)) {
    if (w.length < 2 || STOPWORDS.has(w) || seen.has(w)) continue;
    seen.add(w);
    if (seen.size >= max) break;
  }
  return [...seen];
}

/** Stems of the significant words: what a sentence is matched against. */
export function queryTerms(text: string): string[] {
  return [...new Set(significantWords(text, 16).map(stem))];
}

/** A small, stable, non-cryptographic hash (FNV-1a) for deterministic choices. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
