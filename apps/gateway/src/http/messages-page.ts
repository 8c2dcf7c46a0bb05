import { PERSISTENCE_RPC, type ListMessagesReply, type StoredMessage } from '@herald/contracts';
import type { RpcClient } from '@herald/messaging';

/**
 * An HTTP page stops early (with its `nextBefore`) once its messages' content adds up to this
 * many bytes: a conversation of very long answers still pages, in fewer messages a page.
 */
export const MESSAGES_HTTP_PAGE_MAX_BYTES = 8 * 1024 * 1024;

export interface MessagesPageRequest {
  userId: string;
  conversationId: string;
  limit: number;
  before?: string;
  /** The branch ending at this message instead of the active one. */
  leaf?: string;
}

/**
 * `GET /v1/conversations/:id/messages` (PROTOCOL.md §6): the newest `limit` messages of a
 * branch (the active one, or the one ending at `leaf`) older than `before`, oldest first. Persistence answers in pieces that each fit one NATS message
 * (conversation.messages stops short of `limit` at a few hundred KiB); this asks for the
 * older pieces until the page is full, nothing older remains, or MESSAGES_HTTP_PAGE_MAX_BYTES.
 */
export async function messagesPage(rpc: Pick<RpcClient, 'call'>, req: MessagesPageRequest): Promise<ListMessagesReply> {
  const pieces: StoredMessage[][] = [];
  let count = 0;
  let bytes = 0;
  let before = req.before;
  let nextBefore: string | null = null;
  do {
    const piece = await rpc.call(PERSISTENCE_RPC.listMessages, {
      userId: req.userId,
      conversationId: req.conversationId,
      limit: req.limit - count,
      before,
      // `before` names its branch by itself (its ancestors): `leaf` only matters for the first piece.
      leaf: before === undefined ? req.leaf : undefined,
    });
    pieces.unshift(piece.messages);
    count += piece.messages.length;
    for (const m of piece.messages) bytes += Buffer.byteLength(m.content);
    nextBefore = piece.nextBefore;
    if (piece.messages.length === 0) break;
    before = nextBefore ?? undefined;
  } while (nextBefore && count < req.limit && bytes < MESSAGES_HTTP_PAGE_MAX_BYTES);
  return { messages: pieces.flat(), nextBefore };
}
