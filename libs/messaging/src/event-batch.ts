/**
 * Group commit of events (issue 12): one EVENTS message carries the events of one run that
 * were published while the run's previous publish was in flight, as a JSON array. An event's
 * id is its message's stream sequence times EVENT_ID_FACTOR plus its index in the array, so
 * ids stay decimal strings that strictly increase per user (PROTOCOL.md §3). A message
 * stored before this format (one JSON object) keeps its stream sequence as its id: those are
 * all smaller than any id of a later array message (its sequence is larger, and the factor
 * is at least 1), so the order holds across the change.
 *
 * Ids are computed with BigInt: the Postgres event log's bigint holds sequences up to
 * 9.2e15 / EVENT_ID_FACTOR, the JavaScript number (persistence's row ids) up to 9.0e12.
 */
export const EVENT_ID_FACTOR = 1000;
/** The most events in one message: their indexes stay below EVENT_ID_FACTOR. */
export const MAX_BATCH_EVENTS = 100;

const FACTOR = BigInt(EVENT_ID_FACTOR);
const OPEN = 0x5b; // '['
const COMMA = 0x2c;
const CLOSE = 0x5d;

/** The id of the event at `index` in the array message stored at `seq`. */
export function eventIdOf(seq: number | bigint, index: number): string {
  return (BigInt(seq) * FACTOR + BigInt(index)).toString();
}

/**
 * The first stream sequence whose messages may hold an event with an id greater than `id`:
 * an array message at `seq` holds ids from seq × F, a single event there has id `seq` (a
 * smaller sequence than seq × F names), so reading from ⌊id / F⌋ misses nothing; what it
 * reads at or below `id` the reader skips.
 */
export function firstSequenceAfter(id: string | bigint): number {
  const seq = BigInt(id) / FACTOR;
  return seq < 1n ? 1 : Number(seq);
}

/** An id no smaller than that of any event stored at or before `seq` (the stream's end as a cursor). */
export function lastEventIdUpTo(seq: number | bigint): string {
  return (BigInt(seq) * FACTOR + FACTOR - 1n).toString();
}

/** The smallest id an array message stored at `seq` can give: every event with a smaller id was stored before `seq`. */
export function firstEventIdAt(seq: number | bigint): string {
  return (BigInt(seq) * FACTOR).toString();
}

/** One array message's body from events each already encoded as JSON: `[e0,e1,…]`. */
export function packEvents(encoded: readonly Uint8Array[]): Uint8Array {
  let bytes = 1 + Math.max(0, encoded.length - 1) + 1;
  for (const e of encoded) bytes += e.byteLength;
  const out = new Uint8Array(bytes);
  out[0] = OPEN;
  let at = 1;
  encoded.forEach((e, i) => {
    if (i > 0) out[at++] = COMMA;
    out.set(e, at);
    at += e.byteLength;
  });
  out[at] = CLOSE;
  return out;
}

/** The bytes an array message of events of these sizes takes (packEvents' length). */
export function packedSize(count: number, eventBytes: number): number {
  return eventBytes + count + 1;
}

/**
 * The events of one EVENTS message, decoded from its JSON body, with their ids: an array
 * (group commit) or, as stored before it, one event whose id is the sequence. Null when the
 * body is neither (not validated further: each consumer validates the events it uses).
 */
export function unpackEvents(seq: number | bigint | string, body: unknown): Array<{ id: string; event: unknown }> | null {
  if (Array.isArray(body)) {
    if (body.length > EVENT_ID_FACTOR) return null;
    const base = BigInt(seq) * FACTOR;
    return body.map((event: unknown, i) => ({ id: (base + BigInt(i)).toString(), event }));
  }
  if (body === null || typeof body !== 'object') return null;
  return [{ id: String(seq), event: body }];
}

/** What the de-duplication keys of one group share: up to the last `:` (a job step's `<runId>:<step>:`). */
export function keyPrefix(key: string): string {
  return key.slice(0, key.lastIndexOf(':') + 1);
}

/** Whether events with these keys may share a message: the same keyPrefix, and no `,` (batchMsgId's separator). */
export function mayGroup(first: string, key: string): boolean {
  const prefix = keyPrefix(first);
  return prefix !== '' && keyPrefix(key) === prefix && !first.includes(',') && !key.includes(',');
}

/**
 * The Nats-Msg-Id of a message carrying the events with these keys, in order (any two of
 * them mayGroup): the key itself for one event, else their prefix and their rests joined by
 * `,` (`<runId>:<step>:e3,e4,d2`). msgIdKeys reads it back.
 */
export function batchMsgId(keys: readonly string[]): string {
  if (keys.length === 1) return keys[0];
  const cut = keyPrefix(keys[0]).length;
  return keys[0].slice(0, cut) + keys.map((k) => k.slice(cut)).join(',');
}

/** The keys of the events a message carries, in order, from its Nats-Msg-Id (batchMsgId). */
export function msgIdKeys(msgId: string): string[] {
  const comma = msgId.indexOf(',');
  const prefix = keyPrefix(comma < 0 ? msgId : msgId.slice(0, comma));
  return msgId
    .slice(prefix.length)
    .split(',')
    .map((rest) => prefix + rest);
}
