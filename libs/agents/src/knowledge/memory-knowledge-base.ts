import { stem, STOPWORDS, words } from '../models/local/text-terms';
import type { Passage } from '@herald/contracts';
import type { KnowledgeBase } from './knowledge-base';

export interface MemoryChunk {
  id: string;
  title: string;
  content: string;
}

/**
 * An in-memory stand-in for the Postgres knowledge base, for tests: words ANDed, `or`
 * between words ORs them; the score counts matching words.
 */
export class MemoryKnowledgeBase implements KnowledgeBase {
  constructor(private readonly chunks: readonly MemoryChunk[]) {}

  async search(query: string, limit: number): Promise<Passage[]> {
    const groups = query
      .toLowerCase()
      // (?<!\s): a cut starts where the whitespace does, not again at each of its characters.
      .split(/(?<!\s)\s+or\s+/)
      .map((part) =>
        words(part)
          .filter((w) => !STOPWORDS.has(w))
          .map(stem),
      )
      .filter((g) => g.length > 0);
    if (groups.length === 0) return [];
    return this.chunks
      .map((chunk) => {
        const stems = words(`${chunk.title} ${chunk.content}`).map(stem);
        const matches = groups.filter((g) => g.every((t) => stems.includes(t)));
        const hits = groups.flat().reduce((n, t) => n + stems.filter((s) => s === t).length, 0);
        return { ...chunk, score: matches.length ? hits / 10 : 0 };
      })
      .filter((p) => p.score > 0)
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .slice(0, limit);
  }
}
