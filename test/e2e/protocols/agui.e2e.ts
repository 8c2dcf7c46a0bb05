import { HttpAgent } from '@ag-ui/client';
import { type BaseEvent, EventType, type RunFinishedEvent } from '@ag-ui/core';
import { EventSchemas } from '@ag-ui/core/schemas';
import type { AgentEvent } from '@herald/contracts';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EventCollector } from '../../support/event-collector';
import { Cluster, ROOT } from '../../support/cluster';
import { readSse, type SseFrame } from '../../support/sse-frames';
import { setTimeout as sleep } from 'node:timers/promises';

const QUESTION = 'What is NATS JetStream?';

/** A RunAgentInput as a client sends it (the history it resends is ignored by Herald). */
function input(threadId: string, runId: string, text: string, extra: Record<string, unknown> = {}) {
  return {
    threadId,
    runId,
    messages: [
      { id: randomUUID(), role: 'user', content: 'an earlier question, resent' },
      { id: randomUUID(), role: 'assistant', content: 'an earlier answer' },
      { id: randomUUID(), role: 'user', content: text },
    ],
    tools: [],
    context: [],
    state: {},
    ...extra,
  };
}

const events = (frames: SseFrame[]) => frames.map((f) => JSON.parse(f.data) as BaseEvent & Record<string, unknown>);
const textOf = (list: Array<BaseEvent & Record<string, unknown>>) =>
  list
    .filter((e) => e.type === EventType.TEXT_MESSAGE_CONTENT)
    .map((e) => e.delta)
    .join('');

describe('AG-UI (/v1/agui) end to end, with @ag-ui/client', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ gateways: 2, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '15', HUMAN_RESPONSE_TIMEOUT_MS: '30000' } });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  const url = (gateway = 0) => `${cluster.gatewayUrl(gateway)}/v1/agui`;
  const auth = async (userId: string) => ({ authorization: `Bearer ${await cluster.token(userId)}` });

  async function post(userId: string, body: unknown, gateway = 0, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(url(gateway), {
      method: 'POST',
      headers: { ...(await auth(userId)), 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify(body),
    });
  }

  async function agent(userId: string, threadId: string, gateway = 0) {
    const seen: BaseEvent[] = [];
    const a = new HttpAgent({ url: url(gateway), headers: await auth(userId), threadId });
    a.subscribe({ onEvent: ({ event }) => void seen.push(event) });
    return { agent: a, seen };
  }

  async function storedMessages(userId: string, conversationId: string): Promise<Array<{ id: string; role: string; content: string }>> {
    for (let i = 0; ; i++) {
      const res = await cluster.http(`/v1/conversations/${conversationId}/messages`, { userId });
      const body = (await res.json()) as { messages: Array<{ id: string; role: string; content: string }> };
      if (body.messages.length >= 2 || i > 100) return body.messages;
      await sleep(50);
    }
  }

  it('answers a question through HttpAgent: valid events, the text equals the stored answer, tool calls balanced on Herald callIds', async () => {
    const user = 'agui-question';
    const heraldEvents = new EventCollector(await cluster.client(user));
    const threadId = randomUUID();
    const { agent: a, seen } = await agent(user, threadId);
    a.addMessage({ id: randomUUID(), role: 'user', content: QUESTION });
    await a.runAgent({ runId: randomUUID() });

    for (const event of seen) expect(EventSchemas.safeParse(event).success).toBe(true);
    expect(seen[0].type).toBe(EventType.RUN_STARTED);
    const finished = seen.at(-1) as RunFinishedEvent;
    expect(finished).toMatchObject({ type: EventType.RUN_FINISHED, threadId, outcome: { type: 'success' } });
    expect(finished.usage?.[0].totalTokens).toBeGreaterThan(0);
    const text = textOf(seen as never);
    const stored = await storedMessages(user, threadId);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(stored[0].content).toBe(QUESTION);
    expect(text).toBe(stored[1].content);
    // HttpAgent assembled the same answer into its messages.
    expect(a.messages.some((m) => m.role === 'assistant' && m.content === stored[1].content)).toBe(true);

    const heraldRun = heraldEvents.events.find((e) => e.conversationId === threadId)!.runId;
    const heraldCalls = (await heraldEvents.until(heraldRun)).flatMap((e: AgentEvent) =>
      e.type === 'tool_executing' ? [e.data.callId] : [],
    );
    expect(heraldCalls.length).toBeGreaterThan(0);
    const of = (type: EventType) => seen.filter((e) => e.type === type).map((e) => (e as unknown as { toolCallId: string }).toolCallId);
    expect(of(EventType.TOOL_CALL_START)).toEqual(heraldCalls);
    expect(of(EventType.TOOL_CALL_END)).toEqual(heraldCalls);
    expect(of(EventType.TOOL_CALL_RESULT)).toEqual(heraldCalls);
    const steps = seen.filter((e) => e.type === EventType.STEP_STARTED).map((e) => (e as unknown as { stepName: string }).stepName);
    expect(steps).toEqual(['triage', 'knowledge', 'reporting']);
    expect(seen.some((e) => e.type === EventType.CUSTOM && (e as unknown as { name: string }).name === 'herald.status')).toBe(true);
  });

  it('resumes on the other gateway mid-run and after the end: the pieces add up to the uninterrupted stream, no gap, no duplicate', async () => {
    const user = 'agui-resume';
    const runId = randomUUID();
    const abort = new AbortController();
    const res = await fetch(url(0), {
      method: 'POST',
      headers: { ...(await auth(user)), 'content-type': 'application/json' },
      body: JSON.stringify(input('resume-thread', runId, QUESTION)),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const head = await readSse(res, { abort, stop: (f) => JSON.parse(f.data).type === EventType.TEXT_MESSAGE_CONTENT });
    const cut = head.at(-1)!.id!;
    // Mid-run, on gateway 1, with Last-Event-ID on the same request…
    const midRes = await post(user, input('resume-thread', runId, QUESTION), 1, { 'last-event-id': cut });
    const mid = await readSse(midRes);
    expect(events(mid).at(-1)?.type).toBe(EventType.RUN_FINISHED);
    expect(events(mid).some((e) => e.type === EventType.RUN_STARTED)).toBe(false);
    // …then after the end, from the start and from a cursor, with GET.
    const whole = await readSse(await fetch(`${url(1)}/runs/${runId}`, { headers: await auth(user) }));
    expect([...head, ...mid]).toEqual(whole);
    const ids = whole.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    const k = Math.floor(whole.length / 2);
    const rest = await readSse(
      await fetch(`${url(0)}/runs/${runId}?after=${encodeURIComponent(whole[k].id!)}`, { headers: await auth(user) }),
    );
    expect([...whole.slice(0, k + 1), ...rest]).toEqual(whole);
    // After the last frame there is nothing left: an empty stream.
    const none = await fetch(`${url(0)}/runs/${runId}?after=${encodeURIComponent(whole.at(-1)!.id!)}`, { headers: await auth(user) });
    expect(none.status).toBe(200);
    expect(await readSse(none)).toEqual([]);
  });

  it('treats runId as an idempotency key: the same input again replays the run from RUN_STARTED and starts nothing', async () => {
    const user = 'agui-idempotent';
    const threadId = randomUUID();
    const runId = randomUUID();
    const first = await readSse(await post(user, input(threadId, runId, 'Hello there!')));
    const again = await readSse(await post(user, input(threadId, runId, 'Hello there!'), 1));
    expect(events(first)[0].type).toBe(EventType.RUN_STARTED);
    expect(again).toEqual(first);
    const stored = await storedMessages(user, threadId);
    await sleep(300);
    expect((await storedMessages(user, threadId)).length).toBe(stored.length);
    expect(stored).toHaveLength(2);
  });

  it('cancels with POST /v1/agui/runs/:runId/cancel: the stream ends RUN_FINISHED cancelled and nothing is stored', async () => {
    const user = 'agui-cancel';
    const threadId = randomUUID();
    const runId = randomUUID();
    const res = await post(user, input(threadId, runId, 'Write a report on revenue by region'));
    // The cancel's answer may arrive after the stream has ended: keep the promise, await it after.
    let cancelling: Promise<Response> | undefined;
    const frames = await readSse(res, {
      stop: (f) => {
        if (!cancelling && JSON.parse(f.data).type === EventType.TEXT_MESSAGE_CONTENT) {
          cancelling = (async () => fetch(`${url(1)}/runs/${runId}/cancel`, { method: 'POST', headers: await auth(user) }))();
        }
        return false;
      },
    });
    expect(cancelling).toBeDefined();
    expect((await cancelling!).status).toBe(202);
    expect(events(frames).at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'cancelled' } });
    await sleep(500);
    const stored = (await (await cluster.http(`/v1/conversations/${threadId}/messages`, { userId: user })).json()) as {
      messages: unknown[];
    };
    expect(stored.messages).toEqual([]);
    const again = await fetch(`${url(0)}/runs/${runId}/cancel`, { method: 'POST', headers: await auth(user) });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ alreadyFinished: true });
  });

  it('keeps users apart: another user’s thread UUID is 404, their runs are 404, and the same string thread id names two conversations', async () => {
    const threadId = randomUUID();
    const runId = randomUUID();
    await readSse(await post('agui-alice', input(threadId, runId, 'Hello there!')));
    const stolen = await post('agui-mallory', input(threadId, randomUUID(), 'Hello there!'));
    expect(stolen.status).toBe(404);
    expect(await stolen.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await fetch(`${url(0)}/runs/${runId}`, { headers: await auth('agui-mallory') })).status).toBe(404);
    expect((await fetch(`${url(0)}/runs/${runId}/cancel`, { method: 'POST', headers: await auth('agui-mallory') })).status).toBe(404);
    // The same runId from another user is that user's own run, not a re-attach to Alice's.
    const own = events(await readSse(await post('agui-mallory', input(randomUUID(), runId, 'Hello there!'))));
    expect(own.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });

    for (const user of ['agui-alice', 'agui-mallory']) await readSse(await post(user, input('my-chat:1', randomUUID(), `I am ${user}`)));
    const titles = async (userId: string) =>
      ((await (await cluster.http('/v1/conversations', { userId })).json()) as { conversations: Array<{ id: string; title: string }> })
        .conversations;
    const alice = (await titles('agui-alice')).find((c) => c.title === 'I am agui-alice');
    const mallory = (await titles('agui-mallory')).find((c) => c.title === 'I am agui-mallory');
    expect(alice && mallory && alice.id !== mallory.id).toBe(true);
  });

  it('continues the thread’s active branch whatever history the client resends: an edit made over REST is the branch it goes on from', async () => {
    const user = 'agui-branches';
    const threadId = randomUUID();
    const { agent: a } = await agent(user, threadId);
    a.addMessage({ id: randomUUID(), role: 'user', content: QUESTION });
    await a.runAgent({ runId: randomUUID() });
    const [question] = await storedMessages(user, threadId);

    // The question edited over REST (the thread id is the conversation id): that branch becomes the active one.
    const edit = await cluster.http(`/v1/conversations/${threadId}/messages`, {
      userId: user,
      gateway: 1,
      method: 'POST',
      body: JSON.stringify({ content: 'How does resume work?', parentMessageId: question.id }),
    });
    expect(edit.status).toBe(202);
    const { messageId: editedAnswer } = (await edit.json()) as { messageId: string };
    const active = async () =>
      (
        (await (await cluster.http(`/v1/conversations/${threadId}/messages`, { userId: user })).json()) as {
          messages: Array<{ id: string; content: string; parentId: string | null }>;
        }
      ).messages;
    for (let i = 0; (await active()).at(-1)?.id !== editedAnswer && i < 200; i++) await sleep(50);

    // The AG-UI client still holds (and resends) the first question and its answer, and asks on: no 400, and
    // Herald goes on from its own active branch, the edited one.
    const { agent: b, seen } = await agent(user, threadId, 1);
    b.setMessages([...a.messages, { id: randomUUID(), role: 'user', content: 'And what about retention?' }]);
    await b.runAgent({ runId: randomUUID() });
    expect(seen.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });
    let branch = await active();
    for (let i = 0; branch.length < 4 && i < 200; i++) {
      await sleep(50);
      branch = await active();
    }
    expect(branch.map((m) => m.content).slice(0, 1)).toEqual(['How does resume work?']);
    expect(branch[2]).toMatchObject({ content: 'And what about retention?', parentId: editedAnswer });
  });

  it('refuses bad input with 400 INVALID_INPUT and a missing token with 401', async () => {
    const user = 'agui-bad';
    const cases: Array<[string, unknown]> = [
      ['no messages', { threadId: 't', runId: 'r' }],
      ['a bad thread id', input('not a thread id!', 'r', 'hi')],
      ['a bad traceLevel', input('t', 'r', 'hi', { forwardedProps: { traceLevel: 'loud' } })],
      ['a bad onBusy', input('t', 'r', 'hi', { forwardedProps: { onBusy: 'later' } })],
      ['no user message', { ...input('t', 'r', 'hi'), messages: [{ id: '1', role: 'assistant', content: 'hi' }] }],
      ['an empty runId', input('t', '', 'hi')],
    ];
    for (const [, body] of cases) {
      const res = await post(user, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    }
    const badCursor = await post(user, input('t', randomUUID(), 'hi'), 0, { 'last-event-id': 'yesterday' });
    expect(badCursor.status).toBe(400);
    const anonymous = await fetch(url(0), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input('t', 'r', 'hi')),
    });
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${url(0)}/capabilities`)).status).toBe(401);
  });

  it('asks a clarification as an interrupt; HttpAgent answers it with a resume entry and gets the rest of the same run', async () => {
    const user = 'agui-clarify';
    const threadId = randomUUID();
    const { agent: a, seen } = await agent(user, threadId);
    a.addMessage({ id: randomUUID(), role: 'user', content: 'sales by category please' });
    await a.runAgent({ runId: randomUUID() });
    const interrupted = seen.at(-1) as RunFinishedEvent;
    expect(interrupted.outcome).toMatchObject({
      type: 'interrupt',
      interrupts: [
        {
          reason: 'clarification',
          message: expect.stringMatching(/revenue \(USD\) or units sold/),
          responseSchema: { enum: ['revenue', 'units sold'] },
        },
      ],
    });
    const interrupt = interrupted.outcome!.type === 'interrupt' ? interrupted.outcome!.interrupts[0] : undefined;
    expect(a.pendingInterrupts.map((i) => i.id)).toEqual([interrupt!.id]);

    // A new input without the answer while the thread waits: RUN_ERROR.
    const refused = events(await readSse(await post(user, input(threadId, randomUUID(), 'something else'))));
    expect(refused.at(-1)).toMatchObject({ type: EventType.RUN_ERROR });

    seen.length = 0;
    await a.runAgent({ runId: randomUUID(), resume: [{ interruptId: interrupt!.id, status: 'resolved', payload: 'units sold' }] });
    expect(seen[0].type).toBe(EventType.RUN_STARTED);
    expect(seen.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });
    const stored = await storedMessages(user, threadId);
    expect(textOf(seen as never)).toBe(stored[1].content);
    expect(stored[1].content).toContain('Units sold by category');
  });

  it('asks an approval as an interrupt after announcing its tool call; approving it runs the tool, whose result comes in the next AG-UI run', async () => {
    const user = 'agui-approve';
    const threadId = randomUUID();
    const { agent: a, seen } = await agent(user, threadId);
    a.addMessage({ id: randomUUID(), role: 'user', content: 'Export the revenue by region as CSV' });
    await a.runAgent({ runId: randomUUID() });
    const interrupted = seen.at(-1) as RunFinishedEvent;
    expect(interrupted.outcome).toMatchObject({
      type: 'interrupt',
      interrupts: [{ reason: 'approval', message: expect.stringMatching(/^Export 4 rows as /) }],
    });
    const interrupt = interrupted.outcome!.type === 'interrupt' ? interrupted.outcome!.interrupts[0] : undefined;
    const started = (list: BaseEvent[]) =>
      list.filter((e) => e.type === EventType.TOOL_CALL_START).map((e) => e as unknown as { toolCallName: string; toolCallId: string });
    // The waiting call is announced before the interrupt, and the interrupt names it.
    const exportCall = started(seen).find((c) => c.toolCallName === 'export_csv');
    expect(exportCall?.toolCallId).toBe(interrupt!.toolCallId);

    seen.length = 0;
    await a.runAgent({ runId: randomUUID(), resume: [{ interruptId: interrupt!.id, status: 'resolved', payload: { approved: true } }] });
    expect(started(seen).map((c) => c.toolCallId)).not.toContain(exportCall!.toolCallId);
    const result = seen.find(
      (e) => e.type === EventType.TOOL_CALL_RESULT && (e as unknown as { toolCallId: string }).toolCallId === exportCall!.toolCallId,
    );
    expect(JSON.parse((result as unknown as { content: string }).content)).toMatchObject({ filename: expect.stringMatching(/\.csv$/) });
    expect(seen.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });
    // HttpAgent holds the call and its result in its messages.
    expect(a.messages.some((m) => m.role === 'tool' && m.toolCallId === exportCall!.toolCallId)).toBe(true);
  });

  it('a resume entry with status cancelled refuses an approval (the run goes on without the tool) and cancels a clarification', async () => {
    const refuse = await agent('agui-refuse', randomUUID());
    refuse.agent.addMessage({ id: randomUUID(), role: 'user', content: 'Export the revenue by region as CSV' });
    await refuse.agent.runAgent({ runId: randomUUID() });
    const approval = refuse.agent.pendingInterrupts[0];
    refuse.seen.length = 0;
    await refuse.agent.runAgent({ runId: randomUUID(), resume: [{ interruptId: approval.id, status: 'cancelled' }] });
    expect(
      refuse.seen.some(
        (e) => e.type === EventType.TOOL_CALL_RESULT && (e as unknown as { toolCallId: string }).toolCallId === approval.toolCallId,
      ),
    ).toBe(false);
    expect(textOf(refuse.seen as never)).toContain('You declined the export');
    expect(refuse.seen.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });

    const drop = await agent('agui-drop', randomUUID());
    drop.agent.addMessage({ id: randomUUID(), role: 'user', content: 'sales by category please' });
    await drop.agent.runAgent({ runId: randomUUID() });
    const question = drop.agent.pendingInterrupts[0];
    drop.seen.length = 0;
    await drop.agent.runAgent({ runId: randomUUID(), resume: [{ interruptId: question.id, status: 'cancelled' }] });
    expect(drop.seen.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'cancelled' } });
  });

  it('runs the example client (examples/agui-client.mjs), answering its clarification from stdin', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'examples/agui-client.mjs'), 'sales by category please'], {
      env: { ...process.env, HERALD_URL: cluster.gatewayUrl(1), HERALD_TOKEN: await cluster.token('agui-example'), THREAD: randomUUID() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('(revenue / units sold)') && child.stdin.writable) child.stdin.end('units sold\n');
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/\[RUN_FINISHED\] outcome interrupt/);
    expect(out).toMatch(/\[answer\] [\s\S]*Units sold by category/);
    expect(out).toMatch(/\[RUN_FINISHED\] outcome success/);
  });

  it('describes itself: AgentCapabilities with resumable transport and interrupts', async () => {
    const res = await fetch(`${url(1)}/capabilities`, { headers: await auth('agui-caps') });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ transport: { streaming: true, resumable: true }, humanInTheLoop: { interrupts: true } });
  });
});
