/** The longest user id (`sub` claim) Herald accepts (PROTOCOL.md §1). */
export const MAX_USER_ID_LENGTH = 128;

/** A user id is any non-empty string of at most 128 characters: it is data, never a pattern. */
export function isValidUserId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_USER_ID_LENGTH;
}
