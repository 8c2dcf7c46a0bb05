import { z } from 'zod';
import { isValidUserId, USER_ID_RULE, UUID_RE } from './ids';
import { characterCount } from './socket';

/** What a user may say about an assistant message (PROTOCOL.md §2 `message:feedback`); `null` removes the rating. */
export const FEEDBACK_RATINGS = ['up', 'down'] as const;
export type FeedbackRating = (typeof FEEDBACK_RATINGS)[number];

/** The longest feedback comment, in characters (code points). */
export const MAX_FEEDBACK_COMMENT_CHARS = 2000;

/** A lone surrogate (Postgres and JSON would store U+FFFD); in `u` mode a valid pair is one code point, never Cs. */
const LONE_SURROGATE_RE = /\p{Cs}/u;

const uuid = z
  .string({ error: 'must be a UUID' })
  .regex(UUID_RE, 'must be a UUID')
  .transform((s) => s.toLowerCase());

/**
 * The comment: trimmed; blank is no comment. Well-formed Unicode without NUL, at most
 * MAX_FEEDBACK_COMMENT_CHARS characters (line breaks are fine).
 */
const comment = z
  .string({ error: 'must be a string' })
  .describe(`at most ${MAX_FEEDBACK_COMMENT_CHARS} characters (code points) once trimmed; well-formed Unicode, no NUL`)
  // A first bound in UTF-16 units (a character is at most two) before anything scans the text.
  .max(MAX_FEEDBACK_COMMENT_CHARS * 2 + 1000, `must be at most ${MAX_FEEDBACK_COMMENT_CHARS} characters`)
  // Postgres text cannot hold NUL.
  .refine((s) => !LONE_SURROGATE_RE.test(s) && !s.includes('\u0000'), 'must be well-formed Unicode without NUL characters')
  .transform((s) => s.trim())
  .refine((s) => characterCount(s) <= MAX_FEEDBACK_COMMENT_CHARS, `must be at most ${MAX_FEEDBACK_COMMENT_CHARS} characters`)
  .transform((s) => (s === '' ? undefined : s));

/** The rating and comment, without the message id. */
const ratingFields = {
  rating: z.enum(FEEDBACK_RATINGS, { error: 'must be "up", "down" or null' }).nullable(),
  comment: comment.optional(),
};
/** The body of `PUT /v1/messages/:messageId/feedback` as documented (the event's fields less `messageId`, which the URL gives). */
export const feedbackBodySchema = z.strictObject(ratingFields);

/** `message:feedback` `{ messageId, rating, comment? }`; also the body of `PUT /v1/messages/:messageId/feedback`. */
export const messageFeedbackSchema = z
  .strictObject({ messageId: uuid, ...ratingFields })
  .refine((f) => f.rating !== null || f.comment === undefined, { message: 'a comment needs a rating', path: ['comment'] });
export type MessageFeedbackInput = z.infer<typeof messageFeedbackSchema>;

/** The user's rating of an assistant message, as the messages listing shows it (PROTOCOL.md §6). */
export const messageFeedbackStateSchema = z.object({
  rating: z.enum(FEEDBACK_RATINGS),
  comment: z.string().optional(),
  updatedAt: z.string(),
});
export type MessageFeedbackState = z.infer<typeof messageFeedbackStateSchema>;

const userId = z.string().refine(isValidUserId, `must be ${USER_ID_RULE}`);

/** feedback.set: stores, replaces or (rating null) removes the user's rating of one of their assistant messages. */
export const setFeedbackRequestSchema = z.strictObject({
  userId,
  messageId: uuid,
  rating: z.enum(FEEDBACK_RATINGS).nullable(),
  comment: z
    .string()
    .min(1)
    .max(MAX_FEEDBACK_COMMENT_CHARS * 2)
    .optional(),
});
export type SetFeedbackRequest = z.input<typeof setFeedbackRequestSchema>;
export const setFeedbackReplySchema = z.object({ feedback: messageFeedbackStateSchema.nullable() });
export type SetFeedbackReply = z.infer<typeof setFeedbackReplySchema>;

/** `GET /v1/admin/feedback` pages: at most this many ratings (default DEFAULT_FEEDBACK_PAGE). */
export const MAX_FEEDBACK_PAGE = 500;
export const DEFAULT_FEEDBACK_PAGE = 100;

/** feedback.list: current ratings whose last change is at or after `since`, oldest change first, after the cursor `after`. */
export const listFeedbackRequestSchema = z.strictObject({
  since: z.iso.datetime({ offset: true }),
  after: z.string().min(1).max(256).optional(),
  limit: z.number().int().min(1).max(MAX_FEEDBACK_PAGE),
});
export type ListFeedbackRequest = z.input<typeof listFeedbackRequestSchema>;
export const feedbackEntrySchema = z.object({
  messageId: z.string(),
  userId: z.string(),
  rating: z.enum(FEEDBACK_RATINGS),
  comment: z.string().nullable(),
  at: z.string(),
  message: z.object({ id: z.string(), conversationId: z.string(), content: z.string() }),
});
export type FeedbackEntry = z.infer<typeof feedbackEntrySchema>;
/** `nextAfter`: pass it as `after` (same `since`) for the next page; null when none remains. */
export const listFeedbackReplySchema = z.object({
  feedback: z.array(feedbackEntrySchema),
  nextAfter: z.string().nullable(),
});
export type ListFeedbackReply = z.infer<typeof listFeedbackReplySchema>;
