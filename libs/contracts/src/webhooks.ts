import { z } from 'zod';
import { type EventType, usageSchema } from './events';
import { RUN_STATUS_OF_TERMINAL_EVENT, TERMINAL_RUN_STATUSES, type TerminalRunStatus } from './runs';

/**
 * Webhooks (PROTOCOL.md §10): what each URL of WEBHOOK_URLS receives when a run ends, signed as
 * the Standard Webhooks specification says (https://www.standardwebhooks.com).
 */
export const WEBHOOK_EVENT_TYPES = ['run.completed', 'run.failed', 'run.cancelled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The webhook each terminal event of PROTOCOL.md §3 sends, and the run status it reports. */
export const WEBHOOK_OF_TERMINAL = {
  orchestration_completed: { type: 'run.completed', status: RUN_STATUS_OF_TERMINAL_EVENT.orchestration_completed },
  error: { type: 'run.failed', status: RUN_STATUS_OF_TERMINAL_EVENT.error },
  run_cancelled: { type: 'run.cancelled', status: RUN_STATUS_OF_TERMINAL_EVENT.run_cancelled },
} as const satisfies Partial<Record<EventType, { type: WebhookEventType; status: TerminalRunStatus }>>;

export const webhookPayloadSchema = z.strictObject({
  type: z.enum(WEBHOOK_EVENT_TYPES),
  /** When the run ended (its terminal event's time), ISO 8601 UTC. */
  timestamp: z.iso.datetime(),
  data: z.strictObject({
    runId: z.string(),
    conversationId: z.string(),
    userId: z.string(),
    status: z.enum(TERMINAL_RUN_STATUSES),
    /** The run's usage from its terminal event: partial or null for a failed or cancelled run. */
    usage: usageSchema.nullable(),
    /** The answer's id (run.completed). */
    messageId: z.string().optional(),
    /** What went wrong (run.failed): the `error` event's data. */
    error: z.strictObject({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
  }),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** URLs WEBHOOK_URLS may list, and the longest one. */
export const WEBHOOK_MAX_URLS = 16;
export const WEBHOOK_URL_MAX_CHARS = 2048;

/**
 * Why one entry of WEBHOOK_URLS is refused (to follow "entry N"), or null when it is a URL
 * Herald can deliver to. The entry itself is never repeated: it may hold a token.
 */
export function webhookUrlProblem(value: string): string | null {
  if (value.length === 0) return 'is empty';
  if (value.length > WEBHOOK_URL_MAX_CHARS) return `is over ${WEBHOOK_URL_MAX_CHARS} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `is a ${url.protocol} URL; only http and https are delivered to`;
  if (url.username || url.password) return 'has credentials (user:password@); put a token in the path or query instead';
  if (url.hash) return 'has a fragment (#…), which is never sent';
  return null;
}

/**
 * A Standard Webhooks secret: `whsec_` then standard base64 of 24 to 64 random bytes (the
 * specification's bounds), e.g. `echo "whsec_$(openssl rand -base64 32)"`.
 */
export function webhookSecretProblem(value: string): string | null {
  if (!value.startsWith('whsec_')) return 'must start with whsec_ (a Standard Webhooks secret: whsec_ and base64)';
  const base64 = value.slice('whsec_'.length);
  if (!/^[A-Z0-9+/]+={0,2}$/i.test(base64) || base64.length % 4 !== 0) return 'must be whsec_ followed by standard base64';
  const bytes = Buffer.from(base64, 'base64').length;
  if (bytes < 24 || bytes > 64) return `must hold 24 to 64 bytes of key (it holds ${bytes}), e.g. whsec_$(openssl rand -base64 32)`;
  return null;
}
