import { ErrorCode, HeraldError, ON_BUSY, TRACE_LEVELS, type RunOptions } from '@herald/contracts';
import { safeValidateUIMessages, type UIMessage } from 'ai';
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
