import type { AgentJob } from '@herald/contracts';
import { type EventPublisher } from '@herald/messaging';
import { createLogger } from '@herald/observability';
import { DELTA_MAX_CHARS, DELTA_WINDOW_MS, JobEventSink } from './job-event-sink';

type Publish = EventPublisher['publish'];
type Call = { type: string; data: unknown; progress: number; msgId: string; trace?: unknown; scope: unknown; groupable?: boolean };

const job: AgentJob = {
  runId: 'run-1',
  userId: 'u',
  conversationId: 'c',
  messageId: 'm',
  agent: 'reporting',
  step: 2,
  input: {},
  history: [],
  traceLevel: 'none',
  stream: true,
  progress: { from: 0.5, to: 0.9 },
};
const logger = createLogger('test', 'silent');

function setup(opts: { publishDelayMs?: number } = {}) {
  const calls: Call[] = [];
  const stored: string[] = [];
  const publish = (async (scope, type, data, o) => {
    calls.push({ scope, type, data, progress: o.progress, msgId: o.msgId, trace: o.trace, groupable: o.groupable });
    if (opts.publishDelayMs) await new Promise((r) => setTimeout(r, opts.publishDelayMs));
    stored.push(o.msgId);
    return calls.length;
  }) as Publish;
  const controller = new AbortController();
  const sink = new JobEventSink({ publish }, job, controller.signal, logger);
  return { sink, calls, stored, controller };
}

describe('JobEventSink', () => {
  it('publishes in the run scope with msg ids <runId>:<step>:<n>', async () => {
    const { sink, calls } = setup();
    await sink.emit('status', { step: 'generating', message: 'Writing…' });
    await sink.emit('agent_thinking', { agent: 'a', thought: 't' }, { latencyMs: 3 });
    expect(calls.map((c) => c.msgId)).toEqual(['run-1:2:e1', 'run-1:2:e2']);
    expect(calls[0].scope).toEqual({ userId: 'u', conversationId: 'c', runId: 'run-1' });
    expect(calls[1]).toMatchObject({ type: 'agent_thinking', trace: { latencyMs: 3 } });
  });

  it('a first attempt’s events are groupable; a retry sends, one message each, only what the earlier attempt did not store', async () => {
    const first = setup();
    await first.sink.emit('status', { step: 'generating', message: 'Writing…' });
    expect(first.calls.map((c) => c.groupable)).toEqual([true]);
    const retry = setup();
    retry.sink.carryOn({ events: new Set([1, 3]), deltaChars: new Map(), lastDelta: 0 });
    for (const thought of ['a', 'b', 'c', 'd']) await retry.sink.emit('agent_thinking', { agent: 'a', thought });
    expect(retry.calls.map((c) => [c.msgId, (c.data as { thought: string }).thought, c.groupable])).toEqual([
      ['run-1:2:e2', 'b', false],
      ['run-1:2:e4', 'd', false],
    ]);
    expect(retry.sink.count).toBe(4);
  });

  it('maps the step progress into the job range and never goes back', async () => {
    const { sink, calls } = setup();
    await sink.emit('agent_started', { agent: 'a' });
    sink.progress(0.5);
    await sink.emit('agent_thinking', { agent: 'a', thought: 't' });
    sink.progress(0.25);
    sink.progress(Number.NaN);
    await sink.emit('agent_thinking', { agent: 'a', thought: 't' });
    sink.progress(3);
    await sink.emit('agent_completed', { agent: 'a', durationMs: 1 });
    expect(calls.map((c) => c.progress)).toEqual([0.5, 0.7, 0.7, 0.9]);
  });

  it('coalesces token deltas into one event per window, flushed in order before any other event', async () => {
    const { sink, calls } = setup();
    for (const t of ['Hel', 'lo', ', ', 'world']) await sink.emit('message_delta', { messageId: 'm', delta: t });
    expect(calls).toEqual([]); // held for the window
    await new Promise((r) => setTimeout(r, DELTA_WINDOW_MS + 15));
    expect(calls.map((c) => [c.type, c.data])).toEqual([['message_delta', { messageId: 'm', delta: 'Hello, world' }]]);
    await sink.emit('message_delta', { messageId: 'm', delta: '!' });
    await sink.emit('message', {
      messageId: 'm',
      role: 'assistant',
      content: 'Hello, world!',
      metadata: { intent: 'chitchat', sources: [] },
    });
    expect(calls.map((c) => c.type)).toEqual(['message_delta', 'message_delta', 'message']);
    expect(
      calls
        .filter((c) => c.type === 'message_delta')
        .map((c) => (c.data as { delta: string }).delta)
        .join(''),
    ).toBe('Hello, world!');
    expect(calls.map((c) => c.msgId)).toEqual(['run-1:2:d1', 'run-1:2:d2', 'run-1:2:e1']);
  });

  it('a retry carries on after the deltas an earlier attempt stored, numbering its deltas after them', async () => {
    const { sink, calls } = setup();
    sink.carryOn({ events: new Set(), deltaChars: new Map([['m', 7]]), lastDelta: 3 });
    await sink.emit('status', { step: 'generating', message: '…' });
    for (const t of ['Hel', 'lo', ', ', 'world']) await sink.emit('message_delta', { messageId: 'm', delta: t });
    await sink.emit('message', {
      messageId: 'm',
      role: 'assistant',
      content: 'Hello, world',
      metadata: { intent: 'chitchat', sources: [] },
    });
    expect(calls.map((c) => [c.msgId, c.type === 'message_delta' ? (c.data as { delta: string }).delta : c.type])).toEqual([
      ['run-1:2:e1', 'status'],
      ['run-1:2:d4', 'world'],
      ['run-1:2:e2', 'message'],
    ]);
  });

  it('flushes a long run of deltas without waiting for the window', async () => {
    const { sink, calls } = setup();
    await sink.emit('message_delta', { messageId: 'm', delta: 'x'.repeat(DELTA_MAX_CHARS) });
    expect(calls).toHaveLength(1);
  });

  it('publishes nothing once aborted, and settled() waits for what was in flight', async () => {
    const { sink, calls, stored, controller } = setup({ publishDelayMs: 30 });
    const inFlight = sink.emit('status', { step: 's', message: 'a' });
    controller.abort();
    await sink.emit('message_delta', { messageId: 'm', delta: 'b' });
    sink.progress(1);
    expect(calls.map((c) => c.msgId)).toEqual(['run-1:2:e1']);
    expect(stored).toEqual([]);
    await sink.settled();
    expect(stored).toEqual(['run-1:2:e1']);
    await inFlight;
  });

  it('once aborted, still publishes the tool_completed that closes an interrupted call (evenIfAborted), before settled() resolves', async () => {
    const { sink, calls, stored, controller } = setup({ publishDelayMs: 10 });
    await sink.emit('tool_executing', { agent: 'a', tool: 'slow', callId: 'call_2_1', input: {} });
    controller.abort();
    await sink.emit('tool_progress', { agent: 'a', tool: 'slow', callId: 'call_2_1', progress: 1 });
    const closing = { agent: 'a', tool: 'slow', callId: 'call_2_1', ok: false, error: 'Cancelled before it finished.', durationMs: 4 };
    await sink.emit('tool_completed', closing, undefined, { evenIfAborted: true });
    expect(calls.map((c) => [c.type, c.msgId])).toEqual([
      ['tool_executing', 'run-1:2:e1'],
      ['tool_completed', 'run-1:2:e2'],
    ]);
    expect(calls[1].data).toEqual(closing);
    await sink.settled();
    expect(stored).toEqual(['run-1:2:e1', 'run-1:2:e2']);
  });

  it("is unrepeatable from a tool loop's first model-driven event on with a non-deterministic model, never with the local engine", async () => {
    const local = setup().sink;
    local.modelDriven();
    expect(local.unrepeatable).toBe(false);
    const publish = (async () => 1) as Publish;
    const hosted = new JobEventSink({ publish }, job, new AbortController().signal, logger, false);
    await hosted.emit('tool_executing', { agent: 'a', tool: 'knowledge_search', callId: 'call_2_1', input: {} });
    expect(hosted.unrepeatable).toBe(false);
    hosted.modelDriven();
    expect(hosted.unrepeatable).toBe(true);
    await hosted.settled();
  });

  it('is unrepeatable once it asked the user, or streamed text of a non-deterministic model', async () => {
    const asked = setup().sink;
    await asked.emit('message_delta', { messageId: 'm', delta: 'local text' });
    expect(asked.unrepeatable).toBe(false);
    await asked.emit('clarification_requested', { requestId: 'req_2_1', question: 'Which?' });
    expect(asked.unrepeatable).toBe(true);

    const publish = (async () => 1) as Publish;
    const hosted = new JobEventSink({ publish }, job, new AbortController().signal, logger, false);
    await hosted.emit('status', { step: 'generating', message: '…' });
    expect(hosted.unrepeatable).toBe(false);
    await hosted.emit('message_delta', { messageId: 'm', delta: 'model text' });
    expect(hosted.unrepeatable).toBe(true);
    await hosted.settled();
  });

  it('pipelines publishes: emit() does not wait for the ack, flush() does, in order', async () => {
    const { sink, calls, stored } = setup({ publishDelayMs: 20 });
    await sink.emit('status', { step: 'a', message: '1' });
    await sink.emit('status', { step: 'b', message: '2' });
    expect(calls.map((c) => c.msgId)).toEqual(['run-1:2:e1', 'run-1:2:e2']); // both sent
    expect(stored).toEqual([]); // neither acknowledged yet
    await sink.flush();
    expect(stored).toEqual(['run-1:2:e1', 'run-1:2:e2']);
  });

  it('flush() rejects when an event was not stored (the step then fails); settled() never throws', async () => {
    const publish = (async () => Promise.reject(new Error('nats down'))) as Publish;
    const sink = new JobEventSink({ publish }, job, new AbortController().signal, logger);
    await expect(sink.emit('status', { step: 's', message: 'm' })).resolves.toBeUndefined();
    await expect(sink.settled()).resolves.toBeUndefined();
    await expect(sink.flush()).rejects.toThrow('nats down');
  });
});
