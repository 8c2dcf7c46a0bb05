import { z } from 'zod';
import { TRACE_LEVELS } from './events';
import { historyMessageSchema } from './rpc';

/** Built-in agent names: BullMQ job names are these strings, never class names. */
export const AGENT = {
  triage: 'triage',
  knowledge: 'knowledge',
  reporting: 'reporting',
} as const;

export const INTENTS = ['chitchat', 'question'] as const;
export type Intent = (typeof INTENTS)[number];

/** One step of a run: a sub-agent that a worker runs as a BullMQ job. */
export const agentJobSchema = z.object({
  runId: z.string(),
  userId: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  agent: z.string(),
  step: z.number().int().nonnegative(),
  /** What the supervisor hands this agent: the question, earlier agents' results. */
  input: z.record(z.string(), z.unknown()),
  history: z.array(historyMessageSchema),
  traceLevel: z.enum(TRACE_LEVELS),
  stream: z.boolean(),
  /** The part of the run's progress this step owns: its events go from `from` to `to`. */
  progress: z.object({ from: z.number().min(0).max(1), to: z.number().min(0).max(1) }),
});
export type AgentJob = z.infer<typeof agentJobSchema>;

/** What a finished job returns to the supervisor. */
export const agentJobResultSchema = z.object({
  output: z.record(z.string(), z.unknown()),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }).optional(),
});
export type AgentJobResult = z.infer<typeof agentJobResultSchema>;

export function agentJobId(runId: string, step: number): string {
  return `${runId}-${step}`;
}
