import { AGENT, INTENTS, type Passage, type ReportingInput, reportingInputSchema, type ReportingOutput } from '@herald/contracts';
import type { CompletionResult, TokenChunk } from '../models/model-provider';
import type { AgentContext } from '../sdk/agent-context';
import { defineAgent } from '../sdk/agent-definition';
import { modelToolNames } from '../sdk/agent-tool';
import { builtInTools } from '../tools/built-in-tools';
import { reportingSystemPrompt, toolsSystemPrompt } from './reporting.prompts';

/** Step progress before the first token, and the share the tokens fill. */
const WRITING_STARTS = 0.05;
const WRITING_SHARE = 0.9;

/**
 * Writes the answer from the question, the passages and the history; streams it when asked.
 * With a model that can call tools (`model.runTools`: a real model, not the local engine), the
 * answer is a tool loop: the model may search the knowledge base, query the dataset and call
 * the MCP servers' tools before it answers; the passages it finds are cited as sources too.
 */
export const reportingAgent = defineAgent<ReportingInput, ReportingOutput>({
  name: AGENT.reporting,
  description: 'Writes the answer and cites its sources.',
  input: reportingInputSchema,
  plan: { intents: INTENTS, order: 100, weight: 0.47 }, // the supervisor always ends with it

  async run(ctx, { question, intent, passages, data }) {
    await ctx.status('generating', intent === 'report' ? 'Writing the report…' : 'Writing the answer…');
    ctx.progress(WRITING_STARTS);
    const grounded = intent === 'question' || intent === 'report' ? passages : [];
    const { messageId, stream } = ctx.step;
    const system = reportingSystemPrompt(intent, grounded.length, data);

    const request = {
      system,
      messages: [...ctx.history, { role: 'user' as const, content: question }],
      documents: grounded.map(({ id, title, content }) => ({ id, title, content })),
      ...(data ? { data } : {}),
      onToken: async ({ delta, index, fraction }: TokenChunk) => {
        ctx.progress(WRITING_STARTS + WRITING_SHARE * (fraction ?? 1 - 1 / (1 + (index + 1) / 50)));
        if (stream) await ctx.emit('message_delta', { messageId, delta });
      },
    };
    const found: Passage[] = [];
    const completion: CompletionResult = ctx.model.runTools
      ? await answerWithTools(ctx, request, found)
      : await ctx.model.complete({ ...request, signal: ctx.signal });

    const sources = uniqueById([...grounded, ...found]).map(({ id, title, score }) => ({ id, title, score }));
    await ctx.emit(
      'message',
      { messageId, role: 'assistant', content: completion.text, metadata: { intent, sources, ...dataMetadata(data) } },
      {
        full: {
          model: completion.model,
          prompt: system,
          promptTokens: completion.usage.promptTokens,
          completionTokens: completion.usage.completionTokens,
        },
      },
    );
    return { content: completion.text, sources };
  },

  summarize: ({ sources }) => (sources.length ? `Answered citing ${sources.length} source${sources.length === 1 ? '' : 's'}` : 'Answered'),
});

/** The tool loop: the built-in tools and the MCP servers', the passages knowledge_search finds kept in `found`. */
function answerWithTools(
  ctx: AgentContext,
  request: Omit<Parameters<AgentContext['runTools']>[0], 'tools'> & { system: string },
  found: Passage[],
): Promise<CompletionResult> {
  const tools = [...builtInTools(ctx.resources, { onPassages: (p) => found.push(...p) }), ...(ctx.resources.tools?.list() ?? [])];
  // The names the model calls them by (runTools makes the same ones).
  const names = modelToolNames(tools.map((t) => t.name));
  return ctx.runTools({ ...request, system: `${request.system}\n\n${toolsSystemPrompt(names)}`, tools });
}

function uniqueById<T extends { id: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.id) && (seen.add(i.id), true));
}

/** What the data agent found, for clients to render: the table, and the export when approved. */
function dataMetadata(data: ReportingInput['data']): Record<string, unknown> {
  if (!data) return {};
  return { ...(data.table ? { table: data.table } : {}), ...(data.export ? { export: data.export } : {}) };
}
