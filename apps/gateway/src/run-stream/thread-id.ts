import { ErrorCode, HeraldError, isUuid } from '@herald/contracts';
import { createHash } from 'node:crypto';

/**
 * The UUIDv5 namespace of conversations named by a client's own id (PROTOCOL.md §8). Fixed
 * forever: changing it would move every such thread to a new, empty conversation.
 */
export const THREAD_ID_NAMESPACE = '5b0f7f4e-9a7c-4d0e-8f57-3f0b8c1a6d21';

/** A client's own thread (or chat) id: 1 to 128 characters of `[A-Za-z0-9_.:-]`. */
const CLIENT_THREAD_ID_RE = /^[\w.:-]{1,128}$/;

/**
 * The conversation a protocol's thread id names (AG-UI `threadId`, the AI SDK's chat `id`):
 * a UUID is the conversation's own id (lower-cased; admission decides whether it is the
 * user's, new, or another user's); any other id of CLIENT_THREAD_ID_RE is the UUIDv5 of the
 * user id and that string, so two users never share one. Anything else is INVALID_INPUT.
 */
export function conversationIdOfThread(userId: string, threadId: unknown, field = 'threadId'): string {
  if (typeof threadId === 'string' && isUuid(threadId)) return threadId.toLowerCase();
  if (typeof threadId !== 'string' || !CLIENT_THREAD_ID_RE.test(threadId)) {
    throw new HeraldError(ErrorCode.INVALID_INPUT, `${field}: must be a UUID or 1 to 128 characters of A-Z, a-z, 0-9, "_", ".", ":", "-"`);
  }
  // A user id has no control characters (PROTOCOL.md §1): NUL cannot be part of either string.
  return uuidV5(`${userId}\u0000${threadId}`, THREAD_ID_NAMESPACE);
}

/** RFC 9562 UUID version 5 (SHA-1 of the namespace's bytes and the name's UTF-8). */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
