/** UUIDs in any version, lower-cased; Postgres `uuid` accepts exactly this shape. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

/** Event ids are JetStream stream sequences, written as decimal strings (PROTOCOL.md §3). */
// [0-9], not \d: the pattern is published in docs/api, where other regex dialects' \d takes any Unicode digit.
// eslint-disable-next-line regexp/prefer-d
export const EVENT_ID_RE = /^(0|[1-9][0-9]{0,18})$/;

/** The longest user id (`sub` claim) Herald accepts, in characters (code points; PROTOCOL.md §1). */
export const MAX_USER_ID_LENGTH = 128;

/** A lone surrogate (in `u` mode a valid pair is one code point, never Cs), or a C0/C1 control character or DEL. */
const ILL_FORMED_OR_CONTROL_RE = /[\p{Cs}\p{Cc}]/u;

/**
 * A user id is a well-formed Unicode string (no lone surrogate: NATS, Redis and Postgres would
 * each store one as U+FFFD, and two users would share an identity) of 1 to 128 characters
 * without control characters. It is data, never a pattern: `.`, `*`, `>` and spaces are fine.
 */
export function isValidUserId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_USER_ID_LENGTH * 2) return false;
  if (ILL_FORMED_OR_CONTROL_RE.test(value)) return false;
  let chars = 0;
  for (const _ of value) if (++chars > MAX_USER_ID_LENGTH) return false;
  return true;
}

export const USER_ID_RULE = `a well-formed Unicode string of 1 to ${MAX_USER_ID_LENGTH} characters without control characters`;
