import { AGENT, INTENTS, type ReportingInput, reportingInputSchema, type ReportingOutput } from '@herald/contracts';
import { defineAgent } from '../sdk/agent-definition';
import { reportingSystemPrompt } from './reporting.prompts';

/** Step progress before the first token, and the share the tokens fill. */
const WRITING_STARTS = 0.05;
const WRITING_SHARE = 0.9;

/** Writes the answer from the question, the passages and the history; streams it when asked. */
export const reportingAgent = defineAgent<ReportingInput, ReportingOutput>({
  name: AGENT.reporting,
  description: 'Writes the answer and cites its sources.',
  input: reportingInputSchema,
  plan: { intents: INTENTS, order: 100 }, // the supervisor always ends with it

  async run(ctx, { question, intent, passages, data }) {
    await ctx.status('generating', intent === 'report' ? 'Writing the report…' : 'Writing the answer…');
    ctx.progress(WRITING_STARTS);
    const grounded = intent === 'question' || intent === 'report' ? passages : [];
    const { messageId, stream } = ctx.step;
    const system = reportingSystemPrompt(intent, grounded.length, data);

    const completion = await ctx.model.complete({
      system,
      messages: [...ctx.history, { role: 'user', content: question }],
      documents: grounded.map(({ id, title, content }) => ({ id, title, content })),
      ...(data ? { data } : {}),
      signal: ctx.signal,
      onToken: async ({ delta, index, fraction }) => {
        ctx.progress(WRITING_STARTS + WRITING_SHARE * (fraction ?? 1 - 1 / (1 + (index + 1) / 50)));
        if (stream) await ctx.emit('message_delta', { messageId, delta });
      },
    });

    const sources = grounded.map(({ id, title, score }) => ({ id, title, score }));
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

/** What the data agent found, for clients to render: the table, and the export when approved. */
function dataMetadata(data: ReportingInput['data']): Record<string, unknown> {
  if (!data) return {};
  return { ...(data.table ? { table: data.table } : {}), ...(data.export ? { export: data.export } : {}) };
}
