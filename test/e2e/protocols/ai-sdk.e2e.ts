import type { AgentEvent } from '@herald/contracts';
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Cluster, ROOT } from '../../support/cluster';
import { EventCollector } from '../../support/event-collector';
import { readSse } from '../../support/sse-frames';
import { setTimeout as sleep } from 'node:timers/promises';

const QUESTION = 'What is NATS JetStream?';

const userMessage = (text: string): UIMessage => ({ id: randomUUID(), role: 'user', parts: [{ type: 'text', text }] });

/** Every chunk of a stream, and the messages the AI SDK assembles from it (as useChat would). */
async function consume(
  stream: ReadableStream<UIMessageChunk>,
  message?: UIMessage,
): Promise<{ chunks: UIMessageChunk[]; messages: UIMessage[] }> {
  const chunks: UIMessageChunk[] = [];
  const [forChunks, forMessages] = stream.tee();
  const reading = (async () => {
    for await (const chunk of forChunks as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
  })();
  const messages: UIMessage[] = [];
  for await (const snapshot of readUIMessageStream({ stream: forMessages, message, terminateOnError: true })) {
    if (messages.at(-1)?.id === snapshot.id) messages[messages.length - 1] = snapshot;
    else messages.push(snapshot);
  }
  await reading;
  return { chunks, messages };
}

const textOf = (message: UIMessage | undefined) => (message?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');

describe('the AI SDK UI message stream (/v1/ai-sdk) end to end, with DefaultChatTransport', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '15', HUMAN_RESPONSE_TIMEOUT_MS: '30000' } });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  const api = (gateway = 0) => `${cluster.gatewayUrl(gateway)}/v1/ai-sdk/chat`;
  const auth = async (userId: string) => ({ authorization: `Bearer ${await cluster.token(userId)}` });
  const transport = async (userId: string, gateway = 0) => new DefaultChatTransport({ api: api(gateway), headers: await auth(userId) });

  async function send(userId: string, chatId: string, messages: UIMessage[], extra: { messageId?: string; gateway?: number } = {}) {
    const t = await transport(userId, extra.gateway);
    const stream = await t.sendMessages({
      chatId,
      messages,
      trigger: 'submit-message',
      messageId: extra.messageId,
      abortSignal: undefined,
    });
    return consume(stream, messages.at(-1)?.role === 'assistant' ? messages.at(-1) : undefined);
  }

  async function post(userId: string, body: unknown, gateway = 0, signal?: AbortSignal): Promise<Response> {
    return fetch(api(gateway), {
      method: 'POST',
      headers: { ...(await auth(userId)), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
  }

  async function stored(userId: string, conversationId: string): Promise<Array<{ id: string; role: string; content: string }>> {
    for (let i = 0; ; i++) {
      const res = await cluster.http(`/v1/conversations/${conversationId}/messages`, { userId });
      const body = (await res.json()) as { messages: Array<{ id: string; role: string; content: string }> };
      if (body.messages.length >= 2 || i > 100) return body.messages;
      await sleep(50);
    }
  }

  it('answers a question: start carries the stored answer’s id, the text equals it, tool parts on Herald’s callIds, sources, finish with usage', async () => {
    const user = 'ai-question';
    const heraldEvents = new EventCollector(await cluster.client(user));
    const chatId = randomUUID();
    const { chunks, messages } = await send(user, chatId, [userMessage(QUESTION)]);
    const answer = messages.at(-1)!;
    const saved = await stored(user, chatId);
    expect(saved.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(chunks[0]).toEqual({ type: 'start', messageId: saved[1].id });
    expect(answer.id).toBe(saved[1].id);
    expect(textOf(answer)).toBe(saved[1].content);
    const finish = chunks.at(-1);
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'stop', messageMetadata: { usage: { totalTokens: expect.any(Number) } } });
    expect(answer.parts.some((p) => p.type === 'source-document' && p.mediaType === 'text/markdown')).toBe(true);

    const runId = heraldEvents.events.find((e) => e.conversationId === chatId)!.runId;
    const calls = (await heraldEvents.until(runId)).flatMap((e: AgentEvent) => (e.type === 'tool_executing' ? [e.data.callId] : []));
    expect(calls.length).toBeGreaterThan(0);
    const tools = answer.parts.filter((p) => p.type === 'dynamic-tool');
    expect(tools.map((p) => p.toolCallId)).toEqual(calls);
    expect(tools.every((p) => p.state === 'output-available' || p.state === 'output-error')).toBe(true);
    expect(chunks.some((c) => c.type === 'data-herald-status' && c.transient === true)).toBe(true);
    expect(chunks.some((c) => c.type === 'data-herald-progress')).toBe(true);
  });

  it('speaks the wire format: x-vercel-ai-ui-message-stream v1, data: lines, data: [DONE] last', async () => {
    const res = await post('ai-wire', { id: randomUUID(), messages: [userMessage('Hello there!')], trigger: 'submit-message' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = await readSse(res);
    expect(frames.at(-1)!.data).toBe('[DONE]');
    expect(frames.slice(0, -1).every((f) => typeof JSON.parse(f.data).type === 'string')).toBe(true);
  });

  it('resumes on the other gateway mid-run from the stream’s start (what useChat({ resume: true }) asks), and answers 204 once the run is over', async () => {
    const user = 'ai-resume';
    const chatId = `resume-chat-${randomUUID().slice(0, 8)}`;
    const messages = [userMessage(QUESTION)];
    const abort = new AbortController();
    const res = await post(user, { id: chatId, messages, trigger: 'submit-message' }, 0, abort.signal);
    const head = await readSse(res, { abort, stop: (f) => JSON.parse(f.data).type === 'text-delta' });
    // The page reloads on gateway 1: DefaultChatTransport.reconnectToStream, as useChat does on mount.
    const resumed = await (await transport(user, 1)).reconnectToStream({ chatId });
    expect(resumed).not.toBeNull();
    const { chunks, messages: assembled } = await consume(resumed!);
    expect(chunks.slice(0, head.length)).toEqual(head.map((f) => JSON.parse(f.data)));
    expect(chunks.at(-1)).toMatchObject({ type: 'finish' });
    // The same stream once more, uninterrupted (a retried POST of the same message re-attaches): identical.
    const again = await send(user, chatId, messages, { gateway: 0 });
    expect(again.chunks).toEqual(chunks);
    expect(textOf(assembled.at(-1))).toBe(textOf(again.messages.at(-1)));
    // Nothing active any more: 204, and the transport says there is nothing to resume.
    const after = await fetch(`${api(1)}/${chatId}/stream`, { headers: await auth(user) });
    expect(after.status).toBe(204);
    expect(await (await transport(user, 0)).reconnectToStream({ chatId })).toBeNull();
  });

  it('stops with POST /v1/ai-sdk/chat/:id/stop: the stream ends with abort, nothing is stored', async () => {
    const user = 'ai-stop';
    const chatId = randomUUID();
    const res = await post(user, { id: chatId, messages: [userMessage('Write a report on revenue by region')], trigger: 'submit-message' });
    // The stop's answer may arrive after the stream has already ended with abort: keep the promise, await it after.
    let stopping: Promise<Response> | undefined;
    const frames = await readSse(res, {
      stop: (f) => {
        if (!stopping && f.data !== '[DONE]' && JSON.parse(f.data).type === 'text-delta') {
          stopping = (async () =>
            fetch(`${api(1)}/${chatId}/stop`, {
              method: 'POST',
              headers: { ...(await auth(user)), 'content-type': 'application/json' },
              body: JSON.stringify({ assistantMessage: { id: 'x', role: 'assistant', parts: [] }, activeStreamId: null }),
            }))();
        }
        return false;
      },
    });
    expect(stopping).toBeDefined();
    const stopped = await stopping!;
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toEqual({ ok: true });
    expect(frames.at(-1)!.data).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data) as UIMessageChunk);
    expect(chunks.at(-1)).toMatchObject({ type: 'abort' });
    expect(chunks.some((c) => c.type === 'finish')).toBe(false);
    await sleep(500);
    const saved = (await (await cluster.http(`/v1/conversations/${chatId}/messages`, { userId: user })).json()) as { messages: unknown[] };
    expect(saved.messages).toEqual([]);
    const again = await fetch(`${api(0)}/${chatId}/stop`, { method: 'POST', headers: await auth(user) });
    expect(await again.json()).toEqual({ ok: true, alreadyFinished: true });
  });

  it('keeps users apart: another user’s chat UUID is 404; their chat’s stream is 204 and stop does nothing to it', async () => {
    const chatId = randomUUID();
    const owner = post('ai-alice', { id: chatId, messages: [userMessage(QUESTION)], trigger: 'submit-message' });
    const ownerFrames = owner.then((res) => readSse(res));
    await sleep(300);
    const stolen = await post('ai-mallory', { id: chatId, messages: [userMessage('mine now')], trigger: 'submit-message' });
    expect(stolen.status).toBe(404);
    expect(await stolen.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await fetch(`${api(1)}/${chatId}/stream`, { headers: await auth('ai-mallory') })).status).toBe(204);
    const stop = await fetch(`${api(1)}/${chatId}/stop`, { method: 'POST', headers: await auth('ai-mallory') });
    expect(await stop.json()).toEqual({ ok: true, alreadyFinished: true });
    const frames = await ownerFrames;
    expect(JSON.parse(frames.at(-2)!.data)).toMatchObject({ type: 'finish' });
    // A chat id that is not a UUID names a conversation of each user's own.
    await readSse(await post('ai-alice', { id: 'shared-name', messages: [userMessage('alice here')], trigger: 'submit-message' }));
    await readSse(await post('ai-mallory', { id: 'shared-name', messages: [userMessage('mallory here')], trigger: 'submit-message' }));
    const titles = async (userId: string) =>
      (
        (await (await cluster.http('/v1/conversations', { userId })).json()) as { conversations: Array<{ title: string }> }
      ).conversations.map((c) => c.title);
    expect(await titles('ai-mallory')).toContain('mallory here');
    expect(await titles('ai-mallory')).not.toContain('alice here');
  });

  it('regenerates the last answer (useChat’s regenerate) and edits a stored user message, as branches of the conversation', async () => {
    const user = 'ai-branches';
    const chatId = randomUUID();
    const question = userMessage(QUESTION);
    const first = await send(user, chatId, [question]);
    const answer = first.messages.at(-1)!;
    expect(textOf(answer)).not.toBe('');
    const [storedQuestion, storedAnswer] = await stored(user, chatId);
    expect(storedAnswer.id).toBe(answer.id);

    // regenerate(): the messages up to the question, and the id of the answer replaced (on the other gateway).
    const t = await transport(user, 1);
    const again = await consume(
      await t.sendMessages({ chatId, messages: [question], trigger: 'regenerate-message', messageId: answer.id, abortSignal: undefined }),
    );
    const regenerated = again.messages.at(-1)!;
    expect(again.chunks.at(-1)).toMatchObject({ type: 'finish' });
    expect(regenerated.id).not.toBe(answer.id);
    const active = async () => {
      const res = await cluster.http(`/v1/conversations/${chatId}/messages`, { userId: user });
      return ((await res.json()) as { messages: Array<{ id: string; content: string; parentId: string | null; siblingIds: string[] }> })
        .messages;
    };
    let branch = await waitForLast(active, regenerated.id);
    expect(branch.map((m) => m.id)).toEqual([storedQuestion.id, regenerated.id]);
    expect(branch[1]).toMatchObject({
      content: textOf(regenerated),
      parentId: storedQuestion.id,
      siblingIds: [storedAnswer.id, regenerated.id],
    });

    // Editing the stored question (a client that loaded the history has Herald's ids): a new question beside it.
    const edited: UIMessage = { id: storedQuestion.id, role: 'user', parts: [{ type: 'text', text: 'How does resume work?' }] };
    const edit = await send(user, chatId, [edited], { messageId: storedQuestion.id });
    branch = await waitForLast(active, edit.messages.at(-1)!.id);
    expect(branch.map((m) => m.content)).toEqual(['How does resume work?', textOf(edit.messages.at(-1))]);
    expect(branch[0]).toMatchObject({ parentId: null, siblingIds: [storedQuestion.id, expect.any(String)] });
    expect(branch[0].id).not.toBe(storedQuestion.id);
  });

  /** Polls a branch until it ends at `leaf`. */
  async function waitForLast<T extends { id: string }>(read: () => Promise<T[]>, leaf: string): Promise<T[]> {
    for (let i = 0; ; i++) {
      const messages = await read();
      if (messages.at(-1)?.id === leaf || i > 100) return messages;
      await sleep(50);
    }
  }

  it('refuses bad input with 400 INVALID_INPUT (an edit by a client’s own id clearly), and a missing token with 401', async () => {
    const user = 'ai-bad';
    const id = randomUUID();
    const first = userMessage('Hello there!');
    const cases: unknown[] = [
      { messages: [first] },
      { id: 'no spaces allowed', messages: [first] },
      { id, messages: [] },
      { id, messages: [{ id: '1', role: 'user', parts: [{ type: 'text' }] }] },
      { id, messages: [first], trigger: 'shout' },
      { id, messages: [first, { id: '2', role: 'assistant', parts: [{ type: 'text', text: 'hi' }] }] },
      { id, messages: [first], traceLevel: 'loud' },
    ];
    for (const body of cases) {
      const res = await post(user, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    }
    // Nothing stored yet: nothing to answer again, no message to edit (404); a client's own id is no stored message (400).
    const regenerate = await post(user, { id, messages: [first], trigger: 'regenerate-message' });
    expect(regenerate.status).toBe(404);
    expect(await regenerate.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const edit = await post(user, { id, messages: [first], trigger: 'submit-message', messageId: first.id });
    expect(edit.status).toBe(404);
    const clientId = { id: 'client-1', role: 'user', parts: [{ type: 'text', text: 'edited' }] };
    const editByClientId = await post(user, { id, messages: [clientId], trigger: 'submit-message', messageId: 'client-1' });
    expect(editByClientId.status).toBe(400);
    expect((await editByClientId.json()).error.message).toMatch(/messageId: not a stored message/);
    expect((await (await cluster.http('/v1/conversations', { userId: user })).json()).conversations).toEqual([]);
    const anonymous = await fetch(api(0), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, messages: [first] }),
    });
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${api(0)}/${id}/stream`)).status).toBe(401);
  });

  it('asks a clarification as a data-herald-clarification part; the next user message answers it and gets the rest of the same run', async () => {
    const user = 'ai-clarify';
    const chatId = randomUUID();
    const history = [userMessage('sales by category please')];
    const asked = await send(user, chatId, history);
    expect(asked.chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'other' });
    const question = asked.messages.at(-1)!;
    const part = question.parts.find((p) => p.type === 'data-herald-clarification');
    expect(part).toMatchObject({
      data: { question: expect.stringMatching(/revenue \(USD\) or units sold/), choices: ['revenue', 'units sold'] },
    });

    const answer = userMessage('units sold');
    const rest = await send(user, chatId, [...history, question, answer], { gateway: 1 });
    const saved = await stored(user, chatId);
    expect(rest.chunks[0]).toEqual({ type: 'start', messageId: saved[1].id });
    expect(rest.chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(textOf(rest.messages.at(-1))).toBe(saved[1].content);
    expect(saved[1].content).toContain('Units sold by category');
    expect(question.id).not.toBe(saved[1].id);
  });

  it('asks an approval as tool-approval-request on the tool call; the approval response continues the same message with the tool’s output', async () => {
    const user = 'ai-approve';
    const chatId = randomUUID();
    const history = [userMessage('Export the revenue by region as CSV')];
    const asked = await send(user, chatId, history);
    expect(asked.chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
    const message = asked.messages.at(-1)!;
    const tool = message.parts.find((p) => p.type === 'dynamic-tool' && p.state === 'approval-requested');
    expect(tool).toMatchObject({ toolName: 'export_csv', approval: { id: expect.any(String) } });
    if (tool?.type !== 'dynamic-tool' || tool.state !== 'approval-requested') throw new Error('no approval request');

    // What useChat's addToolApprovalResponse does before it sends the messages again.
    const approved: UIMessage = {
      ...message,
      parts: message.parts.map((p) =>
        p === tool ? { ...tool, state: 'approval-responded', approval: { id: tool.approval.id, approved: true } } : p,
      ),
    };
    const rest = await send(user, chatId, [...history, approved], { messageId: approved.id });
    const done = rest.messages.at(-1)!;
    expect(done.id).toBe(message.id);
    expect(done.parts.find((p) => p.type === 'dynamic-tool' && p.toolCallId === tool.toolCallId)).toMatchObject({
      state: 'output-available',
      output: { filename: expect.stringMatching(/\.csv$/) },
    });
    expect(rest.chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('a refused approval says tool-output-denied on that call, and the run ends without it', async () => {
    const user = 'ai-refuse';
    const chatId = randomUUID();
    const history = [userMessage('Export the revenue by region as CSV')];
    const asked = await send(user, chatId, history);
    const message = asked.messages.at(-1)!;
    const tool = message.parts.find((p) => p.type === 'dynamic-tool' && p.state === 'approval-requested');
    if (tool?.type !== 'dynamic-tool' || tool.state !== 'approval-requested') throw new Error('no approval request');
    const refused: UIMessage = {
      ...message,
      parts: message.parts.map((p) =>
        p === tool ? { ...tool, state: 'approval-responded', approval: { id: tool.approval.id, approved: false, reason: 'not now' } } : p,
      ),
    };
    const rest = await send(user, chatId, [...history, refused], { messageId: refused.id, gateway: 1 });
    expect(rest.chunks).toContainEqual({ type: 'tool-output-denied', toolCallId: tool.toolCallId });
    const done = rest.messages.at(-1)!;
    expect(done.parts.find((p) => p.type === 'dynamic-tool' && p.toolCallId === tool.toolCallId)).toMatchObject({ state: 'output-denied' });
    expect(textOf(done)).toContain('You declined the export');
    expect(rest.chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('runs the example client (examples/ai-sdk-client.mjs), approving its export from stdin', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'examples/ai-sdk-client.mjs'), 'Export the revenue by region as CSV'], {
      env: { ...process.env, HERALD_URL: cluster.gatewayUrl(1), HERALD_TOKEN: await cluster.token('ai-sdk-example'), CHAT: randomUUID() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Run export_csv? [y/N]') && child.stdin.writable) child.stdin.end('y\n');
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/\[tool export_csv call_\S+\] approval-requested/);
    expect(out).toMatch(/\[tool export_csv call_\S+\] output-available/);
    expect(out).toContain('| region | value |');
  });
});
