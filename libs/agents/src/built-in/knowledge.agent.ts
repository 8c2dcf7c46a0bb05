import { AGENT, type KnowledgeInput, knowledgeInputSchema, type KnowledgeOutput } from '@herald/contracts';
import { feedbackTrace, plainPassage, type RankedPassage } from '../knowledge/feedback-ranking';
import { anyWordQuery } from '../knowledge/any-word-query';
import type { AgentContext } from '../sdk/agent-context';
import { defineAgent } from '../sdk/agent-definition';
import { gradePassages, RELEVANCE_RATIO } from './grade-passages';

export const KNOWLEDGE_SEARCH_TOOL = 'knowledge_search';
export const KNOWLEDGE_SEARCH_LIMIT = 5;

/** Finds the passages of the knowledge base that answer the question. */
export const knowledgeAgent = defineAgent<KnowledgeInput, KnowledgeOutput>({
  name: AGENT.knowledge,
  description: 'Searches the knowledge base for passages that answer your question.',
  input: knowledgeInputSchema,
  plan: { intents: ['question', 'report'], order: 10, weight: 0.35 },

  async run(ctx, { question }) {
    await ctx.status('retrieving', 'Searching the knowledge base…');
    let found = await searchKnowledge(ctx, question);
    ctx.progress(0.5);
    if (found.length === 0) {
      const broader = anyWordQuery(question);
      if (broader.query) {
        await ctx.thinking(`Nothing matched all the words; searching again for any of: ${broader.words.join(', ')}.`);
        found = await searchKnowledge(ctx, broader.query);
      }
    }
    ctx.progress(0.8);

    await ctx.status('grading', 'Checking which passages are relevant…');
    const { kept, bar } = gradePassages(found);
    await ctx.thinking(describeGrading(found.length, kept.length), {
      full: { relevanceBar: round(bar), relevanceRatio: RELEVANCE_RATIO, scores: found.map((p) => round(p.score)) },
    });
    return { passages: kept.map(plainPassage) };
  },

  summarize: ({ passages }) =>
    passages.length ? `Found ${passages.length} relevant passage${passages.length === 1 ? '' : 's'}` : 'No relevant passages found',
});

function searchKnowledge(ctx: AgentContext, query: string): Promise<RankedPassage[]> {
  const limit = KNOWLEDGE_SEARCH_LIMIT;
  return ctx.tool(KNOWLEDGE_SEARCH_TOOL, { query, limit }, (signal) => ctx.resources.knowledgeBase.search(query, limit, signal), {
    output: (passages) => ({
      count: passages.length,
      results: passages.map(({ id, title, score }) => ({ id, title, score: round(score) })),
    }),
    trace: (passages) => ({ full: { query, ...searchTrace(passages) } }),
  });
}

/**
 * A search's `full` trace: the scores, and for the passages users' ratings moved, their
 * scores before and after (`feedback`).
 */
export function searchTrace(passages: readonly RankedPassage[]): Record<string, unknown> {
  const feedback = feedbackTrace(passages);
  return { scores: passages.map((p) => round(p.score)), ...(feedback.length ? { feedback } : {}) };
}

function describeGrading(found: number, kept: number): string {
  if (found === 0) return 'No passage in the knowledge base matches the question.';
  const share = `${Math.round(RELEVANCE_RATIO * 100)}%`;
  return `Kept ${kept} of ${found} passage${found === 1 ? '' : 's'}: the ones scoring at least ${share} of the best match.`;
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
