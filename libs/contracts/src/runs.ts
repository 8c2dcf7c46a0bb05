import { z } from 'zod';
import type { EventType } from './events';
import { runOptionsSchema } from './socket';

const ACTIVE = ['queued', 'running', 'waiting'] as const;
/** A run in one of these has ended: its status never changes again. */
export const TERMINAL_RUN_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export const RUN_STATUSES = [...ACTIVE, ...TERMINAL_RUN_STATUSES] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type TerminalRunStatus = (typeof TERMINAL_RUN_STATUSES)[number];
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ACTIVE;

export function isTerminalRunStatus(status: RunStatus): status is TerminalRunStatus {
  return (TERMINAL_RUN_STATUSES as readonly RunStatus[]).includes(status);
}

/** The status each terminal event (PROTOCOL.md §3) ends its run with. */
export const RUN_STATUS_OF_TERMINAL_EVENT = {
  orchestration_completed: 'completed',
  error: 'failed',
  run_cancelled: 'cancelled',
} as const satisfies Partial<Record<EventType, TerminalRunStatus>>;

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

/** Core NATS broadcast between orchestrators: a conversation has no active run any more. */
export const conversationReleasedNoticeSchema = z.object({ conversationId: z.string() });
export type ConversationReleasedNotice = z.infer<typeof conversationReleasedNoticeSchema>;

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
