import {
  DEFAULT_FEEDBACK_PAGE,
  DEFAULT_MESSAGES_PAGE,
  isValidUserId,
  MAX_FEEDBACK_PAGE,
  MAX_MESSAGES_PAGE,
  USER_ID_RULE,
  UUID_RE,
} from '@herald/contracts';
import { z } from 'zod';

/** `GET /v1/conversations?limit=&before=` */
export const listConversationsQuerySchema = z.object({
  limit: z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(1).max(100).default(20),
  before: z.string().min(1).max(256).optional(),
});

/** `GET /v1/conversations/:id/messages?limit=&before=` (PROTOCOL.md §6) */
export const listMessagesQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1)
    .max(MAX_MESSAGES_PAGE)
    .default(DEFAULT_MESSAGES_PAGE),
  /** The `nextBefore` of the newer page: a message id. */
  before: z
    .string()
    .regex(UUID_RE, 'must be a message id')
    .transform((s) => s.toLowerCase())
    .optional(),
});

/** `POST /v1/dev/token` */
export const devTokenBodySchema = z.strictObject({
  userId: z.string().refine(isValidUserId, `must be ${USER_ID_RULE}`),
});

/** `GET /v1/dev/config`: whether `POST /v1/dev/token` signs tokens on this gateway. */
export const devConfigReplySchema = z.object({ devTokens: z.boolean() });
export type DevConfigReply = z.infer<typeof devConfigReplySchema>;

/**
 * `GET /v1/admin/feedback?since=&limit=&after=`: `since` an ISO 8601 time (default: all ratings),
 * `limit` 1–MAX_FEEDBACK_PAGE, `after` the `nextAfter` of the previous page.
 */
export const listFeedbackQuerySchema = z.object({
  since: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z' }).default('1970-01-01T00:00:00Z'),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1)
    .max(MAX_FEEDBACK_PAGE)
    .default(DEFAULT_FEEDBACK_PAGE),
  after: z.string().min(1).max(256).optional(),
});
