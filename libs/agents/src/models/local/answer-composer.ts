import type { GroundingDocument } from '../model-provider';
import { queryTerms, stableHash, stem, words } from './text-terms';

/** At most this many sentences make an answer, and at most this many come from one passage. */
const MAX_SENTENCES = 4;
const MAX_PER_DOCUMENT = 2;

const INTROS = [
  "Here's what I found in the knowledge base:",
  'Based on the knowledge base:',
  'From what the knowledge base says:',
] as const;

interface Candidate {
  doc: number;
  position: number;
  text: string;
  matches: number;
}

/**
 * Sentences of a passage: split after `.`, `!` or `?` followed by a space and something
 * that is not a lower-case letter ("e.g. this" stays whole), never inside a `code span`.
 */
export function splitSentences(content: string): string[] {
  const text = content.replace(/\s+/g, ' ').trim();
  const sentences: string[] = [];
  let start = 0;
  let inCode = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '`') inCode = !inCode;
    else if (!inCode && (ch === '.' || ch === '!' || ch === '?') && text[i + 1] === ' ' && !/\p{Ll}/u.test(text[i + 2] ?? '')) {
      sentences.push(text.slice(start, i + 1));
      start = i + 2;
    }
  }
  sentences.push(text.slice(start));
  return sentences.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Puts ` [n]` before the sentence's final punctuation: "Streams persist messages [1]." The
 * final punctuation is the run of `.` `!` `?` that closing quotes and brackets may follow at
 * the end, found by scanning back from the end (/^(.*?)([.!?]+["')\]]*)$/ retried the run
 * of punctuation from each of its characters: quadratic in its length).
 */
function cite(sentence: string, n: number): string {
  let end = sentence.length;
  while (end > 0 && `"')]`.includes(sentence[end - 1])) end--;
  let start = end;
  while (start > 0 && '.!?'.includes(sentence[start - 1])) start--;
  // As before, a sentence across a line terminator has no final punctuation of its own.
  if (start === end || /[\n\r\u2028\u2029]/.test(sentence.slice(0, start))) return `${sentence} [${n}]`;
  return `${sentence.slice(0, start)} [${n}]${sentence.slice(start)}`;
}

/**
 * The local engine's grounded answer: the sentences of the passages that share the most
 * terms with the query (at least half as many as the best sentence; ties: the
 * better-ranked passage, then the earlier sentence), in
 * reading order, each citing its passage as [n] (n = its position in `documents`, from 1),
 * then the cited titles. Deterministic: the same inputs give the same text.
 */
export function composeAnswer(query: string, documents: readonly GroundingDocument[], fallbackQuery = ''): string {
  if (documents.length === 0) throw new Error('composeAnswer needs at least one document');
  let terms = queryTerms(query);
  if (terms.length === 0 && fallbackQuery) terms = queryTerms(fallbackQuery);
  const termSet = new Set(terms);

  const candidates: Candidate[] = documents.flatMap((doc, i) =>
    splitSentences(doc.content).map((text, position) => ({
      doc: i,
      position,
      text,
      matches: new Set(
        words(text)
          .map(stem)
          .filter((w) => termSet.has(w)),
      ).size,
    })),
  );

  // A sentence must share at least half as many terms as the best one does.
  const best = candidates.reduce((max, c) => Math.max(max, c.matches), 0);
  const needed = Math.max(1, Math.ceil(best / 2));
  const perDoc = new Map<number, number>();
  const picked = candidates
    .filter((c) => c.matches >= needed)
    .sort((a, b) => b.matches - a.matches || a.doc - b.doc || a.position - b.position)
    .filter((c) => {
      const n = perDoc.get(c.doc) ?? 0;
      if (n >= MAX_PER_DOCUMENT) return false;
      perDoc.set(c.doc, n + 1);
      return true;
    })
    .slice(0, MAX_SENTENCES);
  if (picked.length === 0) {
    const first = candidates.find((c) => c.doc === 0) ?? candidates[0];
    if (first) picked.push(first);
  }
  picked.sort((a, b) => a.doc - b.doc || a.position - b.position);

  const body = picked.length
    ? picked.map((c) => cite(c.text, c.doc + 1)).join(' ')
    : `The passage "${documents[0].title}" looks related [1].`;
  const cited = [...new Set(picked.length ? picked.map((c) => c.doc) : [0])];
  const sources = cited.map((i) => `[${i + 1}] ${documents[i].title}`).join('; ');
  const intro = INTROS[stableHash(query) % INTROS.length];
  return `${intro}\n\n${body}\n\nSources: ${sources}`;
}
