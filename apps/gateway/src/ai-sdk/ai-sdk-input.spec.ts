import { ErrorCode, HeraldError } from '@herald/contracts';
import type { UIMessage } from 'ai';
import { chatSendOf, clientMessageIdOf, type ChatRequest } from './ai-sdk-input';

const CONVERSATION = '0b0f6c1e-2f57-4a43-9d3e-6a1f3f2f9c11';
const STORED = '7d4a1f0e-6b2c-4e8d-9a3f-2c5b8e1d4f60';
const options = { traceLevel: 'none', stream: true, onBusy: 'enqueue' } as const;
const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });
const request = (over: Partial<ChatRequest>): ChatRequest => ({
  chatId: CONVERSATION,
  conversationId: CONVERSATION,
  messages: [user('m1', 'What is JetStream?')],
  trigger: 'submit-message',
  options,
  ...over,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return HeraldError.is(err) ? err.code : 'not a HeraldError';
  }
}

describe('chatSendOf (the chat:send of an AI SDK POST)', () => {
  it('sends the last user message, keyed by the chat and the message id', () => {
    expect(chatSendOf(request({}))).toEqual({
      conversationId: 'new',
      options,
      content: 'What is JetStream?',
      clientMessageId: clientMessageIdOf(CONVERSATION, 'm1'),
    });
  });

  it('regenerates by the answer’s Herald id, or the active branch’s last question without one; never with a key', () => {
    expect(chatSendOf(request({ trigger: 'regenerate-message', messageId: STORED }))).toEqual({
      conversationId: 'new',
      options,
      regenerate: true,
      parentMessageId: STORED,
    });
    expect(chatSendOf(request({ trigger: 'regenerate-message', messageId: 'client-id' }))).toEqual({
      conversationId: 'new',
      options,
      regenerate: true,
    });
  });

  it('edits a stored user message named by messageId, with a key that names the new text', () => {
    const edit = chatSendOf(request({ messages: [user(STORED, 'How does resume work?')], messageId: STORED }));
    expect(edit).toMatchObject({ content: 'How does resume work?', parentMessageId: STORED });
    expect(edit.clientMessageId).not.toBe(clientMessageIdOf(CONVERSATION, STORED));
    const again = chatSendOf(request({ messages: [user(STORED, 'Something else')], messageId: STORED }));
    expect(again.clientMessageId).not.toBe(edit.clientMessageId);
  });

  it('refuses an edit by a client-made id, and a chat that does not end with a question', () => {
    expect(codeOf(() => chatSendOf(request({ messages: [user('m1', 'edited')], messageId: 'm1' })))).toBe(ErrorCode.INVALID_INPUT);
    const answer: UIMessage = { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: 'hi' }] };
    expect(codeOf(() => chatSendOf(request({ messages: [user('m1', 'q'), answer] })))).toBe(ErrorCode.INVALID_INPUT);
  });
});
