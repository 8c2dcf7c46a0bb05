import { ErrorCode, HeraldError, isUuid } from '@herald/contracts';

/**
 * Where a page of conversations ended: the last row's `updated_at` (to the microsecond, as
 * Postgres keeps it) and id. Clients see it only as an opaque string (`nextBefore`).
 */
export interface ConversationCursor {
  updatedAt: string;
  id: string;
}

const ISO_MICROS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;
const MAX_CURSOR_LENGTH = 128;

export function encodeConversationCursor(cursor: ConversationCursor): string {
  return Buffer.from(`${cursor.updatedAt}|${cursor.id}`, 'utf8').toString('base64url');
}

/**
 * Reads a cursor (`before` of the conversations, `after` of the feedback export: the same
 * keyset of a microsecond time and a UUID); anything that is not one of ours is INVALID_INPUT.
 */
export function decodeConversationCursor(value: string, param = 'before'): ConversationCursor {
  const invalid = () => new HeraldError(ErrorCode.INVALID_INPUT, `${param}: not a valid cursor`);
  if (value.length === 0 || value.length > MAX_CURSOR_LENGTH || !/^[\w-]+$/.test(value)) throw invalid();
  const [updatedAt, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (rest.length || !updatedAt || !ISO_MICROS_RE.test(updatedAt) || Number.isNaN(Date.parse(updatedAt)) || !isUuid(id)) {
    throw invalid();
  }
  return { updatedAt, id: id.toLowerCase() };
}
