import { AGENT, type Intent, type TriageInput, triageInputSchema, type TriageOutput } from '@herald/contracts';
import { defineAgent } from '../sdk/agent-definition';

/** The sub-agents each intent needs, in order (the supervisor runs them after triage). */
export const PLANS: Record<Intent, readonly string[]> = {
  chitchat: [AGENT.reporting],
  question: [AGENT.knowledge, AGENT.reporting],
  data: [AGENT.data, AGENT.reporting],
  report: [AGENT.knowledge, AGENT.data, AGENT.reporting],
};

/** Works out what the user wants, and which agents should run next. */
export const triageAgent = defineAgent<TriageInput, TriageOutput>({
  name: AGENT.triage,
  description: 'Works out what you are asking for and plans the next steps.',
  input: triageInputSchema,

  async run(ctx, { question }) {
    await ctx.status('routing', 'Classifying your query…');
    const { intent, confidence, reasoning } = await ctx.model.classifyIntent({ text: question, history: ctx.history, signal: ctx.signal });
    ctx.progress(0.7);
    const plan = [...PLANS[intent]];
    await ctx.thinking(reasoning, { full: { reasoning, intent, confidence, plan } });
    return { intent, confidence: Math.round(confidence * 100) / 100, plan };
  },

  summarize: ({ intent, confidence }) => `Intent: ${intent} (${Math.round(confidence * 100)}% confident)`,
});
