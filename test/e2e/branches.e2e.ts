import { randomUUID } from 'node:crypto';
import type { HeraldClient, SendOptions } from '@herald/client';
import { Cluster } from '../support/cluster';
import { setTimeout as sleep } from 'node:timers/promises';

interface Listed {
  id: string;
  role: string;
  content: string;
  parentId: string | null;
  siblingIds: string[];
}

/**
 * Edit and regenerate end to end (PROTOCOL.md §2, §6, §10): real processes, two gateways;
 * runs sent on one, branches read and switched on the other.
 */
describe('edit and regenerate: conversations as trees of messages', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  /** A run sent over the socket, followed to its end; resolves with its ack and the answer's text. */
  async function ask(client: HeraldClient, content: string, opts: Parameters<HeraldClient['ask']>[1] = {}) {
    const run = await client.ask(content, opts);
    const answer = await run.answer;
    return { ack: run.ack, answer };
  }

  async function messages(userId: string, conversationId: string, query = '', gateway = 1): Promise<Listed[]> {
    const res = await cluster.http(`/v1/conversations/${conversationId}/messages${query}`, { userId, gateway });
    expect(res.status).toBe(200);
    return ((await res.json()) as { messages: Listed[] }).messages;
  }

  /** The active branch once its last message is `leaf` (the answer is stored a moment after the run ends). */
  async function activeEndingAt(userId: string, conversationId: string, leaf: string): Promise<Listed[]> {
    for (let i = 0; ; i++) {
      const branch = await messages(userId, conversationId);
      if (branch.at(-1)?.id === leaf || i > 200) return branch;
      await sleep(50);
    }
  }

  it('edits and regenerates over the socket, reads both branches by leaf, and switches branch on the other gateway', async () => {
    const user = 'branch-ada';
    const client = await cluster.client(user, 0);
    const first = await ask(client, 'What is NATS JetStream?');
    const c = first.ack.conversationId;
    const second = await ask(client, 'How does resume work?', { conversationId: c });
    let branch = await activeEndingAt(user, c, second.ack.messageId);
    expect(branch.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    const [q1, a1, q2, a2] = branch;
    expect(a2.content).toBe(second.answer);
    expect(branch.map((m) => m.parentId)).toEqual([null, q1.id, a1.id, q2.id]);

    // Edit the second question: the ack names the answer's id; the new question is q2's sibling.
    const edit = await ask(client, 'How does replay work after a reconnect?', { conversationId: c, parentMessageId: q2.id });
    expect(edit.ack.userMessageId).not.toBe(q2.id);
    branch = await activeEndingAt(user, c, edit.ack.messageId);
    expect(branch.map((m) => m.content)).toEqual([q1.content, a1.content, 'How does replay work after a reconnect?', edit.answer]);
    expect(branch[2]).toMatchObject({ id: edit.ack.userMessageId, parentId: a1.id, siblingIds: [q2.id, edit.ack.userMessageId] });

    // Regenerate the edited question: a new answer beside the first one to it.
    const regen = await ask(client, '', { conversationId: c, parentMessageId: edit.ack.userMessageId, regenerate: true });
    expect(regen.ack.userMessageId).toBe(edit.ack.userMessageId);
    branch = await activeEndingAt(user, c, regen.ack.messageId);
    expect(branch[3]).toMatchObject({
      id: regen.ack.messageId,
      parentId: edit.ack.userMessageId,
      siblingIds: [edit.ack.messageId, regen.ack.messageId],
    });

    // Every branch reads back by its leaf, on either gateway.
    expect((await messages(user, c, `?leaf=${a2.id}`, 0)).map((m) => m.id)).toEqual([q1.id, a1.id, q2.id, a2.id]);
    expect((await messages(user, c, `?leaf=${edit.ack.messageId}`)).map((m) => m.id)).toEqual([
      q1.id,
      a1.id,
      edit.ack.userMessageId,
      edit.ack.messageId,
    ]);
    // Paged: the newest two, then the rest through nextBefore.
    const page = await cluster.http(`/v1/conversations/${c}/messages?limit=2&leaf=${a2.id}`, { userId: user, gateway: 1 });
    const body = (await page.json()) as { messages: Listed[]; nextBefore: string };
    expect(body.messages.map((m) => m.id)).toEqual([q2.id, a2.id]);
    expect(body.nextBefore).toBe(q2.id);
    expect((await messages(user, c, `?before=${body.nextBefore}`)).map((m) => m.id)).toEqual([q1.id, a1.id]);

    // Switch back to the first branch on gateway 1: the active branch, for the listing and for the model.
    const put = await cluster.http(`/v1/conversations/${c}/branch`, {
      userId: user,
      gateway: 1,
      method: 'PUT',
      body: JSON.stringify({ leafMessageId: q2.id }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ leafMessageId: a2.id });
    expect((await messages(user, c, '', 0)).map((m) => m.id)).toEqual([q1.id, a1.id, q2.id, a2.id]);
    const next = await ask(client, 'And what about retention?', { conversationId: c });
    branch = await activeEndingAt(user, c, next.ack.messageId);
    expect(branch.map((m) => m.id).slice(0, 4)).toEqual([q1.id, a1.id, q2.id, a2.id]);
    expect(branch[4]).toMatchObject({ role: 'user', content: 'And what about retention?', parentId: a2.id });
  });

  it('answers NOT_FOUND for another user’s message ids and conversations, and INVALID_INPUT for regenerating an answer; nothing is stored', async () => {
    const owner = await cluster.client('branch-owner', 0);
    const theirs = await ask(owner, 'What is NATS JetStream?');
    const [ownerQuestion, ownerAnswer] = await activeEndingAt('branch-owner', theirs.ack.conversationId, theirs.ack.messageId);
    const mallory = await cluster.client('branch-mallory', 1);
    const mine = await ask(mallory, 'Hello there!');
    const c = mine.ack.conversationId;
    const [myQuestion, myAnswer] = await activeEndingAt('branch-mallory', c, mine.ack.messageId);

    const refused = async ({ content = '', ...opts }: SendOptions & { content?: string }) => {
      const err = (await mallory.send(content, opts).catch((e: unknown) => e)) as { code?: string };
      return err.code;
    };
    for (const parentMessageId of [ownerQuestion.id, ownerAnswer.id, randomUUID()]) {
      expect(await refused({ conversationId: c, content: 'edited', parentMessageId })).toBe('NOT_FOUND');
      expect(await refused({ conversationId: c, regenerate: true, parentMessageId })).toBe('NOT_FOUND');
      const list = await cluster.http(`/v1/conversations/${c}/messages?leaf=${parentMessageId}`, { userId: 'branch-mallory' });
      expect(list.status).toBe(404);
      const before = await cluster.http(`/v1/conversations/${c}/messages?before=${parentMessageId}`, {
        userId: 'branch-mallory',
        gateway: 1,
      });
      expect(before.status).toBe(404);
      const put = await cluster.http(`/v1/conversations/${c}/branch`, {
        userId: 'branch-mallory',
        method: 'PUT',
        body: JSON.stringify({ leafMessageId: parentMessageId }),
      });
      expect(put.status).toBe(404);
      expect(await put.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    // The owner's conversation itself, with the owner's ids: NOT_FOUND too.
    expect(await refused({ conversationId: theirs.ack.conversationId, content: 'x', parentMessageId: ownerQuestion.id })).toBe('NOT_FOUND');
    const foreignPut = await cluster.http(`/v1/conversations/${theirs.ack.conversationId}/branch`, {
      userId: 'branch-mallory',
      gateway: 1,
      method: 'PUT',
      body: JSON.stringify({ leafMessageId: ownerAnswer.id }),
    });
    expect(foreignPut.status).toBe(404);
    // Regenerating an answer, editing an answer: INVALID_INPUT. A malformed body: 400.
    expect(await refused({ conversationId: c, regenerate: true, parentMessageId: myAnswer.id })).toBe('INVALID_INPUT');
    const http = await cluster.http(`/v1/conversations/${c}/messages`, {
      userId: 'branch-mallory',
      method: 'POST',
      body: JSON.stringify({ content: 'edited', parentMessageId: myAnswer.id }),
    });
    expect(http.status).toBe(400);
    const badPut = await cluster.http(`/v1/conversations/${c}/branch`, {
      userId: 'branch-mallory',
      method: 'PUT',
      body: JSON.stringify({ leafMessageId: 'x' }),
    });
    expect(badPut.status).toBe(400);

    expect((await messages('branch-mallory', c)).map((m) => m.id)).toEqual([myQuestion.id, myAnswer.id]);
    expect((await messages('branch-owner', theirs.ack.conversationId)).map((m) => m.id)).toEqual([ownerQuestion.id, ownerAnswer.id]);
  });
});
