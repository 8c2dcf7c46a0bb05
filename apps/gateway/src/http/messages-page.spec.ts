import { randomUUID } from 'node:crypto';
import type { StoredMessage } from '@herald/contracts';
import type { RpcClient } from '@herald/messaging';
import { MESSAGES_HTTP_PAGE_MAX_BYTES, messagesPage } from './messages-page';
import { strictMock } from '@herald/test-support/strict-mock';

/** A conversation.messages that answers at most `piece` messages a call, as persistence does. */
function fakeRpc(all: StoredMessage[], piece: number) {
  const calls: Array<{ limit: number; before?: string; leaf?: string }> = [];
  const rpc = strictMock<Pick<RpcClient, 'call'>>({
    call: jest.fn(async (_op: string, req: { limit: number; before?: string; leaf?: string }) => {
      calls.push({ limit: req.limit, before: req.before, leaf: req.leaf });
      const from = req.before ?? (req.leaf ? all[all.findIndex((m) => m.id === req.leaf) + 1]?.id : undefined);
      const end = from ? all.findIndex((m) => m.id === from) : all.length;
      const start = Math.max(0, end - Math.min(req.limit, piece));
      const messages = all.slice(start, end);
      return { messages, nextBefore: start > 0 ? messages[0].id : null };
    }),
  });
  return { rpc, calls };
}

const conversation = (count: number, content: (i: number) => string): StoredMessage[] => {
  const ids = Array.from({ length: count }, () => randomUUID());
  return ids.map((id, i) => ({
    id,
    conversationId: 'c',
    runId: null,
    role: 'assistant',
    content: content(i),
    metadata: null,
    createdAt: new Date(i * 1000).toISOString(),
    parentId: ids[i - 1] ?? null,
    siblingIds: [id],
  }));
};

describe('messagesPage', () => {
  const req = { userId: 'u', conversationId: 'c' };

  it('gathers the pieces into the page asked for, oldest first, asking only for what is still missing', async () => {
    const all = conversation(20, (i) => `m${i}`);
    const { rpc, calls } = fakeRpc(all, 4);
    const page = await messagesPage(rpc, { ...req, limit: 10 });
    expect(page.messages.map((m) => m.content)).toEqual(all.slice(10).map((m) => m.content));
    expect(page.nextBefore).toBe(all[10].id);
    expect(calls.map((c) => c.limit)).toEqual([10, 6, 2]);
    expect(calls.map((c) => c.before)).toEqual([undefined, all[16].id, all[12].id]);
  });

  it('asks for the branch ending at `leaf` once: `before` names the branch of the older pieces', async () => {
    const all = conversation(12, (i) => `m${i}`);
    const { rpc, calls } = fakeRpc(all, 3);
    const page = await messagesPage(rpc, { ...req, limit: 5, leaf: all[8].id });
    expect(page.messages.map((m) => m.content)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
    expect(page.nextBefore).toBe(all[4].id);
    expect(calls).toEqual([
      { limit: 5, before: undefined, leaf: all[8].id },
      { limit: 2, before: all[6].id, leaf: undefined },
    ]);
  });

  it('stops at the first message', async () => {
    const all = conversation(5, (i) => `m${i}`);
    const page = await messagesPage(fakeRpc(all, 2).rpc, { ...req, limit: 50 });
    expect(page).toEqual({ messages: all, nextBefore: null });
  });

  it('ends a page early, with its nextBefore, once it holds MESSAGES_HTTP_PAGE_MAX_BYTES', async () => {
    const size = MESSAGES_HTTP_PAGE_MAX_BYTES / 4;
    const all = conversation(10, () => 'x'.repeat(size));
    const { rpc } = fakeRpc(all, 1);
    const page = await messagesPage(rpc, { ...req, limit: 10 });
    expect(page.messages).toHaveLength(4);
    expect(page.messages.map((m) => m.id)).toEqual(all.slice(6).map((m) => m.id));
    expect(page.nextBefore).toBe(all[6].id);
  });
});
