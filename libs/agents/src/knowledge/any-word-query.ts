import { significantWords } from '../models/local/text-terms';

/**
 * A broader web-search query: the significant words of the question joined with ` or `.
 * The words are letters and digits only, so nothing in the question can become query
 * syntax (quotes, `-`, `or` itself is a stopword). Empty when fewer than two words remain.
 */
export function anyWordQuery(question: string): { query: string; words: string[] } {
  const found = significantWords(question, 8);
  return found.length < 2 ? { query: '', words: found } : { query: found.join(' or '), words: found };
}
