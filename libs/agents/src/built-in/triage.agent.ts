import { AGENT, type TriageInput, triageInputSchema, type TriageOutput } from '@herald/contracts';
import { defineAgent } from '../sdk/agent-definition';

/** Works out what the user wants, and which agents should run next (those registered for the intent). */
export const triageAgent = defineAgent<TriageInput, TriageOutput>({
  name: AGENT.triage,
  description: 'Works out what you are asking for and plans the next steps.',
  input: triageInputSchema,

  async run(ctx, { question }) {
    const planner = ctx.resources.agents;
    if (!planner) throw new Error('triage needs resources.agents (the agent registry) to plan');
    await ctx.status('routing', 'Classifying your query…');
    const { intent, confidence, reasoning } = await ctx.model.classifyIntent({ text: question, history: ctx.history, signal: ctx.signal });
    ctx.progress(0.7);
    const stages = planner.planFor(intent);
    // A stage of one step is its agent's name; a stage of several, the list of their names.
    const plan = stages.map((stage) => (stage.length === 1 ? stage[0].agent : stage.map((s) => s.agent)));
    const interactive = stages
      .flat()
      .filter((s) => s.interactive)
      .map((s) => s.agent);
    await ctx.thinking(reasoning, { full: { reasoning, intent, confidence, plan } });
    return { intent, confidence: Math.round(confidence * 100) / 100, plan, interactive };
  },

  summarize: ({ intent, confidence }) => `Intent: ${intent} (${Math.round(confidence * 100)}% confident)`,
});
