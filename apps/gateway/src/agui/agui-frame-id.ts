import { ErrorCode, HeraldError } from '@herald/contracts';

/** A frame id: the Herald event id it comes from, and `:<n>` for the n-th further frame of that event. */
const FRAME_ID_RE = /^(\d{1,20})(?::(\d{1,6}))?$/;

export interface FrameId {
  eventId: bigint;
  n: number;
}

/** `<eventId>` for the first frame of an event, `<eventId>:<n>` for the ones after it. */
export function frameIdOf(eventId: string, n: number): string {
  return n === 0 ? eventId : `${eventId}:${n}`;
}

/** Parses a client's cursor (`Last-Event-ID`, `?after=`); INVALID_INPUT when it is not a frame id. */
export function parseFrameId(value: unknown, field: string): FrameId {
  const match = typeof value === 'string' ? FRAME_ID_RE.exec(value.trim()) : null;
  if (!match) throw new HeraldError(ErrorCode.INVALID_INPUT, `${field}: must be a frame id ("<event id>" or "<event id>:<n>")`);
  return { eventId: BigInt(match[1]), n: match[2] === undefined ? 0 : Number(match[2]) };
}

/** Whether frame `id` comes after the cursor. */
export function isFrameAfter(id: string, cursor: FrameId): boolean {
  const frame = parseFrameId(id, 'frame');
  return frame.eventId > cursor.eventId || (frame.eventId === cursor.eventId && frame.n > cursor.n);
}
