import { AGENT, type TriageInput, triageInputSchema, type TriageOutput } from '@herald/contracts';
import { defineAgent } from '../sdk/agent-definition';

/** Works out what the user wants, and which agents should run next. */
export const triageAgent = defineAgent<TriageInput, TriageOutput>({
  name: AGENT.triage,
  description: 'Works out what you are asking for and plans the next steps.',
  input: triageInputSchema,

  async run(ctx, { question }) {
    await ctx.status('routing', 'Classifying your query…');
    const { intent, confidence, reasoning } = await ctx.model.classifyIntent({ text: question, history: ctx.history, signal: ctx.signal });
    ctx.progress(0.7);
    const plan = intent === 'question' ? [AGENT.knowledge, AGENT.reporting] : [AGENT.reporting];
    await ctx.thinking(reasoning, { full: { reasoning, intent, confidence, plan } });
    return { intent, confidence: Math.round(confidence * 100) / 100, plan };
  },

  summarize: ({ intent, confidence }) => `Intent: ${intent} (${Math.round(confidence * 100)}% confident)`,
});
