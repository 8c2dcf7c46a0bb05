import { ErrorCode, HeraldError, isUuid, ON_BUSY, TRACE_LEVELS, type RunOptions } from '@herald/contracts';
import { safeValidateUIMessages, type UIMessage } from 'ai';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { conversationIdOfThread } from '../run-stream/thread-id';

/**
 * The body `DefaultChatTransport` sends (`id`, `messages`, `trigger`, `messageId`), plus what a
 * client may add with the transport's `body` option: `traceLevel` and `onBusy` (`chat:send`'s
 * options; answers always stream). Other fields are the client's own and are ignored.
 */
export const chatBodySchema = z.object({
  id: z.string(),
  messages: z.array(z.unknown()).min(1, 'must hold at least one message'),
  trigger: z.enum(['submit-message', 'regenerate-message']).default('submit-message'),
  messageId: z.string().min(1).max(256).optional(),
  traceLevel: z.enum(TRACE_LEVELS).optional(),
  onBusy: z.enum(ON_BUSY).optional(),
});

export interface ChatRequest {
  chatId: string;
  conversationId: string;
  messages: UIMessage[];
  trigger: 'submit-message' | 'regenerate-message';
  messageId?: string;
  options: RunOptions;
}

/** Validates a `POST /v1/ai-sdk/chat` body (the messages with the AI SDK's own validator); INVALID_INPUT names the field. */
export async function parseChatRequest(userId: string, body: unknown): Promise<ChatRequest> {
  const parsed = chatBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HeraldError(ErrorCode.INVALID_INPUT, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'is not a chat request'}`);
  }
  const conversationId = conversationIdOfThread(userId, parsed.data.id, 'id');
  const messages = await safeValidateUIMessages({ messages: parsed.data.messages });
  if (!messages.success) throw new HeraldError(ErrorCode.INVALID_INPUT, 'messages: must be UI messages (id, role, parts)');
  return {
    chatId: parsed.data.id,
    conversationId,
    messages: messages.data,
    trigger: parsed.data.trigger,
    messageId: parsed.data.messageId,
    options: { traceLevel: parsed.data.traceLevel ?? 'none', stream: true, onBusy: parsed.data.onBusy ?? 'enqueue' },
  };
}

/** A message's text parts, joined. */
export function textOf(message: UIMessage): string {
  return message.parts
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('')
    .trim();
}

/** The user's answer to an approval in the messages: the tool part whose `approval.id` is the request, once responded. */
export function approvalResponseIn(messages: UIMessage[], requestId: string): { approved: boolean; comment?: string } | undefined {
  for (const message of [...messages].reverse()) {
    if (message.role !== 'assistant') continue;
    for (const part of message.parts) {
      if (!('approval' in part) || !part.approval || part.approval.id !== requestId) continue;
      const { approved, reason } = part.approval as { approved?: boolean; reason?: string };
      if (typeof approved !== 'boolean') continue;
      return { approved, ...(typeof reason === 'string' && reason !== '' ? { comment: reason.slice(0, 2000) } : {}) };
    }
  }
  return undefined;
}

/** The idempotency key of a chat's user message: `aisdk:` and the SHA-256 of the conversation and the message id. */
export function clientMessageIdOf(conversationId: string, userMessageId: string): string {
  return `aisdk:${createHash('sha256').update(`${conversationId}\u0000${userMessageId}`, 'utf8').digest('base64url')}`;
}

/**
 * The `chat:send` of a POST. `regenerate-message`: answer again the user message of the answer
 * `messageId` names (Herald's id, from `start`), or the active branch's last one; never a repeat
 * of an earlier POST. `submit-message` with `messageId` naming a user message: an edit of that
 * stored message (its id must be Herald's: one the client loaded with the history).
 */
export function chatSendOf(request: ChatRequest): Record<string, unknown> {
  const base = { conversationId: 'new', options: request.options };
  if (request.trigger === 'regenerate-message') {
    return {
      ...base,
      regenerate: true,
      ...(request.messageId !== undefined && isUuid(request.messageId) ? { parentMessageId: request.messageId } : {}),
    };
  }
  const last = request.messages.at(-1)!;
  const content = last.role === 'user' ? textOf(last) : '';
  if (content === '') throw new HeraldError(ErrorCode.INVALID_INPUT, 'messages: must end with a user message that has text');
  const edited = request.messageId === undefined ? undefined : request.messages.find((m) => m.id === request.messageId);
  if (edited?.role !== 'user') return { ...base, content, clientMessageId: clientMessageIdOf(request.conversationId, last.id) };
  if (!isUuid(edited.id)) {
    throw new HeraldError(ErrorCode.INVALID_INPUT, 'messageId: not a stored message (edit a message by the id Herald stored it under)');
  }
  // useChat keeps the edited message's id: the key also names the new text, so an edit is not a repeat of the first send.
  return {
    ...base,
    content,
    parentMessageId: edited.id,
    clientMessageId: clientMessageIdOf(request.conversationId, `${edited.id}\u0000${content}`),
  };
}
