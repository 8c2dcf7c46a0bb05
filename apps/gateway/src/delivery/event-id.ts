import { EVENT_ID_RE } from '@herald/contracts';

/** Event ids are decimal strings (stream sequence × 1000 + index, event-batch.ts); compare them as numbers of any size. */
export function isLaterEventId(id: string, than: string): boolean {
  return BigInt(id) > BigInt(than);
}

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_RE.test(value);
}
