import { isValidUserId, USER_ID_RULE } from '@herald/contracts';
import { z } from 'zod';

/** `GET /v1/conversations?limit=&before=` */
export const listConversationsQuerySchema = z.object({
  limit: z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(1).max(100).default(20),
  before: z.string().min(1).max(256).optional(),
});

/** `POST /v1/dev/token` */
export const devTokenBodySchema = z.strictObject({
  userId: z.string().refine(isValidUserId, `must be ${USER_ID_RULE}`),
});

/** `GET /v1/dev/config`: whether `POST /v1/dev/token` signs tokens on this gateway. */
export const devConfigReplySchema = z.object({ devTokens: z.boolean() });
export type DevConfigReply = z.infer<typeof devConfigReplySchema>;
