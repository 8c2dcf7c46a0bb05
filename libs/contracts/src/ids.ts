/** UUIDs in any version, lower-cased; Postgres `uuid` accepts exactly this shape. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

/** Event ids are JetStream stream sequences, written as decimal strings (PROTOCOL.md §3). */
export const EVENT_ID_RE = /^(0|[1-9][0-9]{0,18})$/;
