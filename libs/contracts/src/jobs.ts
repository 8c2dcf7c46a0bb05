import { z } from 'zod';
import { TRACE_LEVELS } from './events';
import { historyMessageSchema } from './rpc';

/** Built-in agent names: BullMQ job names are these strings, never class names. */
export const AGENT = {
  triage: 'triage',
  knowledge: 'knowledge',
  reporting: 'reporting',
  data: 'data',
} as const;

/**
 * What a message asks for: small talk, a question for the knowledge base, a question about
 * the demo dataset, or a written report (the dataset and the knowledge base together).
 */
export const INTENTS = ['chitchat', 'question', 'data', 'report'] as const;
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
  /** W3C traceparent of this step's span, in the run's trace. */
  traceparent: z.string().optional(),
  /**
   * Queued by a supervisor driving a redelivered run request: an earlier job of this step
   * (since removed) may have stored events, so the worker treats it as a retry (it reads what
   * was stored and does not group its events; see JobEventSink).
   */
  redriven: z.boolean().optional(),
});
export type AgentJob = z.infer<typeof agentJobSchema>;

/** What a finished job returns to the supervisor. */
export const agentJobResultSchema = z.object({
  output: z.record(z.string(), z.unknown()),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number(), costUsd: z.number().nonnegative().optional() }).optional(),
});
export type AgentJobResult = z.infer<typeof agentJobResultSchema>;

/**
 * What a worker publishes (core NATS, fire and forget) once BullMQ has recorded that a
 * step's job completed, with its return value, or failed with no retry left, with its
 * failed reason. The supervisor waiting for the job reads its state from Redis as well, so
 * a lost notice only delays it.
 */
export const stepSettledNoticeSchema = z.discriminatedUnion('state', [
  z.object({ jobId: z.string(), state: z.literal('completed'), result: z.unknown() }),
  z.object({ jobId: z.string(), state: z.literal('failed'), reason: z.string() }),
]);
export type StepSettledNotice = z.infer<typeof stepSettledNoticeSchema>;

export function agentJobId(runId: string, step: number): string {
  return `${runId}-${step}`;
}

/**
 * How the supervisor queues a step (BullMQ job options besides its id): three attempts with
 * backoff (a worker that dies mid-step leaves it to another), completed jobs kept an hour and
 * failed ones a day for inspection.
 */
export const AGENT_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 250 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
} as const;

/** The failed reason of a job a worker aborted because its run was cancelled (or the supervisor stopped it). */
export const JOB_CANCELLED_REASON = 'cancelled';

/**
 * The failed reason of a job whose cause has a client-safe code: `CODE: message`, or
 * `CODE (final): message` when trying again cannot help (the supervisor's `error` then says
 * `retryable: false`).
 */
export function jobFailureReason(code: string, message: string, retryable = true): string {
  return `${code}${retryable ? '' : ' (final)'}: ${message}`;
}

/** The code and retryability named by a job's failed reason, if it names one. */
export function parseJobFailureReason(reason: string): { code: string; retryable: boolean } | undefined {
  const match = /^([A-Z_]+)( \(final\))?:/.exec(reason);
  return match ? { code: match[1], retryable: !match[2] } : undefined;
}
