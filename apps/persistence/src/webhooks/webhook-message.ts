import { createHash } from 'node:crypto';
import { isTerminal, usageSchema, WEBHOOK_OF_TERMINAL, type WebhookPayload } from '@herald/contracts';
import type { LoggedEvent } from '../event-log/logged-event';

/** The longest `error.message` a webhook carries (the event's own is for end users, and short). */
export const WEBHOOK_ERROR_MESSAGE_MAX_CHARS = 1024;

/** One webhook message as queued: the same id and body on every attempt. */
export interface WebhookJob {
  /** `webhook-id`: one per run, the same on every retry and for every URL. */
  id: string;
  url: string;
  /** The JSON text that is signed and sent. */
  body: string;
  runId: string;
  type: WebhookPayload['type'];
}

/** The message of a run's terminal event (null for any other event); `messageId` is the answer's id. */
export function webhookPayloadOf(event: LoggedEvent, messageId?: string): WebhookPayload | null {
  if (!isTerminal(event.type)) return null;
  const { type, status } = WEBHOOK_OF_TERMINAL[event.type as keyof typeof WEBHOOK_OF_TERMINAL];
  const data = event.envelope.data as Record<string, unknown>;
  const usage = usageSchema.safeParse(data.usage);
  const payload: WebhookPayload = {
    type,
    timestamp: event.at,
    data: {
      runId: event.runId,
      conversationId: event.conversationId,
      userId: event.userId,
      status,
      usage: usage.success ? usage.data : null,
    },
  };
  if (status === 'completed' && messageId) payload.data.messageId = messageId;
  if (event.envelope.type === 'error') {
    const { code, message, retryable } = event.envelope.data;
    payload.data.error = { code, message: message.slice(0, WEBHOOK_ERROR_MESSAGE_MAX_CHARS), retryable };
  }
  return payload;
}

/** `webhook-id` of a run's message: deterministic, so a terminal event seen twice makes the same message. */
export function webhookIdOf(runId: string): string {
  return `msg_${runId}`;
}

/**
 * The BullMQ job id of one delivery: the run and the URL (hashed: it may hold a token), so a
 * terminal event seen twice queues each URL's delivery once. No `:` (BullMQ refuses it).
 */
export function webhookJobIdOf(runId: string, url: string): string {
  return `${runId}-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

/** What logs and metrics may say about a URL: its origin (a path or query may hold a token). */
export function webhookOriginOf(url: string): string {
  return new URL(url).origin;
}
