import type { RankedPassage } from './feedback-ranking';

/** Full-text search over the knowledge base's chunks, best first. */
export interface KnowledgeBase {
  /**
   * `query` uses web-search syntax: words are ANDed, `or` between words ORs them, quotes
   * make a phrase, `-word` excludes. Returns at most `limit` passages with their rank.
   */
  search(query: string, limit: number, signal?: AbortSignal): Promise<RankedPassage[]>;
}
