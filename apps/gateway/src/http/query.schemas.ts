import {
  DEFAULT_ADMIN_USAGE_PAGE,
  DEFAULT_MESSAGES_PAGE,
  daySchema,
  isValidUserId,
  MAX_ADMIN_USAGE_PAGE,
  DEFAULT_FEEDBACK_PAGE,
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

const messageId = z
  .string()
  .regex(UUID_RE, 'must be a message id')
  .transform((s) => s.toLowerCase());

/** `GET /v1/conversations/:id/messages?limit=&before=&leaf=` (PROTOCOL.md §6) */
export const listMessagesQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1)
    .max(MAX_MESSAGES_PAGE)
    .default(DEFAULT_MESSAGES_PAGE),
  /** The `nextBefore` of the newer page: a message id. */
  before: messageId.optional(),
  /** The branch ending at this message instead of the active one. */
  leaf: messageId.optional(),
});

/** `GET /v1/usage?from=&to=` (PROTOCOL.md §6): UTC days, inclusive; the range is checked once the defaults are applied. */
export const usageQuerySchema = z.object({ from: daySchema.optional(), to: daySchema.optional() });

/** `GET /v1/admin/usage?day=&limit=&after=`: one UTC day (default today), a page of users in user-id order. */
export const adminUsageQuerySchema = z.object({
  day: daySchema.optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1)
    .max(MAX_ADMIN_USAGE_PAGE)
    .default(DEFAULT_ADMIN_USAGE_PAGE),
  /** The `nextAfter` of the previous page: a user id. */
  after: z.string().refine(isValidUserId, `must be ${USER_ID_RULE}`).optional(),
});

/** `PUT /v1/conversations/:id/branch` (PROTOCOL.md §6). */
export const switchBranchBodySchema = z.strictObject({ leafMessageId: messageId });

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
