import { z } from 'zod';
import { runOptionsSchema } from './socket';

export const RUN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'waiting'];

/** An accepted run, as the gateway publishes it to the RUNS stream for an orchestrator. */
export const runRequestSchema = z.object({
  runId: z.string(),
  userId: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  userMessageId: z.string(),
  content: z.string(),
  options: runOptionsSchema,
  acceptedAt: z.string(),
  /** W3C traceparent of the gateway's span: the run's trace (also a NATS header). */
  traceparent: z.string().optional(),
});
export type RunRequest = z.infer<typeof runRequestSchema>;

/** Core NATS broadcast: stop this run wherever it is. */
export const runCancelCommandSchema = z.object({ runId: z.string(), userId: z.string(), reason: z.string() });
export type RunCancelCommand = z.infer<typeof runCancelCommandSchema>;

/** Core NATS broadcast: the user's answer to a clarification or approval request. */
export const runRespondCommandSchema = z.object({
  runId: z.string(),
  userId: z.string(),
  requestId: z.string(),
  response: z.union([z.string(), z.object({ approved: z.boolean(), comment: z.string().optional() })]),
});
export type RunRespondCommand = z.infer<typeof runRespondCommandSchema>;

/** `GET /v1/runs/:runId` (PROTOCOL.md §6). */
export const runSnapshotSchema = z.object({
  runId: z.string(),
  conversationId: z.string(),
  status: z.enum(RUN_STATUSES),
  progress: z.number(),
  lastEventId: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type RunSnapshot = z.infer<typeof runSnapshotSchema>;
