import type { AgentEvent, EventType as HeraldType } from '@herald/contracts';
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { DATA_CLARIFICATION, DATA_PROGRESS, questionMessageId, START_SEGMENT, type UiChunk, UiMessageMapper } from './ui-message-mapper';

const RUN = '6f1c8a57-1111-4222-8333-944455556666';
const CONV = '0a1b2c3d-1111-4222-8333-944455556666';
const MSG = '7e7e7e7e-1111-4222-8333-944455556666';

function run(...steps: Array<[HeraldType, Record<string, unknown>, number?]>): AgentEvent[] {
  let progress = 0;
  return steps.map(([type, data, p], i) => {
    progress = Math.max(progress, p ?? progress);
    return {
      id: String(100 + i),
      type,
      runId: RUN,
      conversationId: CONV,
      ts: new Date(1_700_000_000_000 + i).toISOString(),
      progress,
      data,
    } as AgentEvent;
  });
}

function mapAll(events: AgentEvent[], denied: string[] = []): UiChunk[] {
  const mapper = new UiMessageMapper({ messageId: MSG, denied: new Set(denied) });
  return events.flatMap((e) => mapper.map(e));
}

/** What `useChat` builds from a stream: the AI SDK's own reader, failing on any chunk it cannot apply. */
async function assemble(chunks: UIMessageChunk[], message?: UIMessage): Promise<UIMessage[]> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const messages: UIMessage[] = [];
  for await (const snapshot of readUIMessageStream({ stream, message, terminateOnError: true })) {
    if (messages.at(-1)?.id === snapshot.id) messages[messages.length - 1] = snapshot;
    else messages.push(snapshot);
  }
  return messages;
}

const question = run(
  ['orchestration_started', { intent: 'question' }, 0.01],
  ['agent_started', { agent: 'knowledge' }],
  ['agent_thinking', { agent: 'knowledge', thought: 'Searching.' }],
  ['tool_executing', { agent: 'knowledge', tool: 'search', callId: 'call_1_1', input: { query: 'jetstream' } }],
  ['tool_completed', { agent: 'knowledge', tool: 'search', callId: 'call_1_1', ok: true, output: [{ id: 'd1' }], durationMs: 4 }, 0.4],
  ['tool_executing', { agent: 'knowledge', tool: 'fetch', callId: 'call_1_2', input: {} }],
  ['tool_completed', { agent: 'knowledge', tool: 'fetch', callId: 'call_1_2', ok: false, error: 'Gone.', durationMs: 1 }],
  ['agent_completed', { agent: 'knowledge', durationMs: 9 }, 0.5],
  ['message_delta', { messageId: MSG, delta: 'Jet' }, 0.6],
  ['message_delta', { messageId: MSG, delta: 'Stream persists.' }, 0.8],
  [
    'message',
    {
      messageId: MSG,
      role: 'assistant',
      content: 'JetStream persists.',
      metadata: { intent: 'question', sources: [{ id: 'kb/jetstream', title: 'JetStream', score: 0.9 }] },
    },
  ],
  ['orchestration_completed', { durationMs: 30, usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } }, 1],
);

describe('UiMessageMapper', () => {
  it('maps a completed run to a UI message the AI SDK assembles: start with the stored id, reasoning, dynamic tool parts, the text, sources, finish with usage', async () => {
    const chunks = mapAll(question);
    expect(chunks.every((c) => c.segment === START_SEGMENT)).toBe(true);
    expect(chunks[0].chunk).toEqual({ type: 'start', messageId: MSG });
    expect(chunks.at(-1)).toEqual({
      segment: START_SEGMENT,
      chunk: {
        type: 'finish',
        finishReason: 'stop',
        messageMetadata: { usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } },
      },
      last: true,
    });
    const [message] = await assemble(chunks.map((c) => c.chunk));
    expect(message.id).toBe(MSG);
    expect(message.metadata).toEqual({ usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } });
    const text = message.parts.filter((p) => p.type === 'text');
    expect(text).toEqual([expect.objectContaining({ text: 'JetStream persists.', state: 'done' })]);
    expect(message.parts.find((p) => p.type === 'reasoning')).toMatchObject({ text: 'Searching.', state: 'done' });
    const tools = message.parts.filter((p) => p.type === 'dynamic-tool');
    expect(tools).toEqual([
      expect.objectContaining({
        toolName: 'search',
        toolCallId: 'call_1_1',
        state: 'output-available',
        input: { query: 'jetstream' },
        output: [{ id: 'd1' }],
      }),
      expect.objectContaining({ toolName: 'fetch', toolCallId: 'call_1_2', state: 'output-error', errorText: 'Gone.' }),
    ]);
    expect(message.parts.find((p) => p.type === 'source-document')).toMatchObject({
      sourceId: 'kb/jetstream',
      title: 'JetStream',
      mediaType: 'text/markdown',
    });
    // Status and progress are transient: in the stream, not in the message.
    expect(chunks.some((c) => c.chunk.type === DATA_PROGRESS)).toBe(true);
    expect(message.parts.some((p) => p.type.startsWith('data-'))).toBe(false);
  });

  it('is deterministic (a replay is the same stream) and has exactly one last chunk', () => {
    expect(mapAll(question)).toEqual(mapAll(question));
    expect(mapAll(question).filter((c) => c.last)).toHaveLength(1);
  });

  it('ends a cancelled run with abort (no finish) and a failed one with error', async () => {
    const cancelled = mapAll(
      run(
        ['orchestration_started', {}],
        ['message_delta', { messageId: MSG, delta: 'Half' }],
        ['run_cancelled', { reason: 'cancelled_by_user' }, 1],
      ),
    ).map((c) => c.chunk);
    expect(cancelled.slice(-2)).toEqual([
      { type: 'text-end', id: MSG },
      { type: 'abort', reason: 'cancelled_by_user' },
    ]);
    expect(cancelled.some((c) => c.type === 'finish')).toBe(false);
    await expect(assemble(cancelled)).resolves.toHaveLength(1);
    const failed = mapAll(run(['orchestration_started', {}], ['error', { code: 'TIMEOUT', message: 'Too slow.', retryable: true }, 1])).map(
      (c) => c.chunk,
    );
    expect(failed.at(-1)).toEqual({ type: 'error', errorText: 'Too slow.' });
  });

  it('ends the stream at a clarification (the question as its own message), and streams the answer under the stored id in the next segment', async () => {
    const events = run(
      ['orchestration_started', {}],
      ['agent_started', { agent: 'data' }],
      ['clarification_requested', { requestId: 'req_1_1', question: 'Revenue or units?', choices: ['revenue', 'units sold'] }],
      ['status', { step: 'resuming', message: 'Resuming' }],
      ['message', { messageId: MSG, role: 'assistant', content: 'Units.', metadata: { intent: 'data', sources: [] } }],
      ['orchestration_completed', { durationMs: 3 }, 1],
    );
    const chunks = mapAll(events);
    const first = chunks.filter((c) => c.segment === START_SEGMENT);
    expect(first.at(-1)).toMatchObject({ chunk: { type: 'finish' }, last: true });
    const messages = await assemble(first.map((c) => c.chunk));
    const asked = messages.at(-1)!;
    expect(asked.id).toBe(questionMessageId(MSG, 'req_1_1'));
    expect(asked.parts).toContainEqual(
      expect.objectContaining({
        type: DATA_CLARIFICATION,
        data: { requestId: 'req_1_1', question: 'Revenue or units?', choices: ['revenue', 'units sold'] },
      }),
    );
    const rest = chunks.filter((c) => c.segment === 'req_1_1').map((c) => c.chunk);
    expect(rest[0]).toEqual({ type: 'start', messageId: MSG });
    const [answer] = await assemble(rest);
    expect(answer.id).toBe(MSG);
    expect(answer.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'Units.' });
  });

  it('asks an approval as tool-approval-request on the tool call; the next segment continues the same message with the result (or tool-output-denied)', async () => {
    const events = run(
      ['orchestration_started', {}],
      [
        'approval_requested',
        {
          requestId: 'req_1_1',
          action: 'Export 4 rows as CSV',
          details: { rows: 4 },
          tool: 'export_csv',
          callId: 'call_1_1',
          input: { rows: 4 },
        },
      ],
      ['status', { step: 'resuming', message: 'Resuming' }],
      ['tool_executing', { agent: 'data', tool: 'export_csv', callId: 'call_1_1', input: { rows: 4 } }],
      ['tool_completed', { agent: 'data', tool: 'export_csv', callId: 'call_1_1', ok: true, output: { bytes: 69 }, durationMs: 2 }],
      ['orchestration_completed', { durationMs: 3 }, 1],
    );
    const chunks = mapAll(events);
    const first = chunks.filter((c) => c.segment === START_SEGMENT).map((c) => c.chunk);
    const [asked] = await assemble(first);
    expect(asked.parts.find((p) => p.type === 'dynamic-tool')).toMatchObject({
      toolName: 'export_csv',
      toolCallId: 'call_1_1',
      state: 'approval-requested',
      approval: { id: 'req_1_1' },
    });
    // The user approves (what addToolApprovalResponse does), and the next segment goes on in the same message.
    const answered: UIMessage = {
      ...asked,
      parts: asked.parts.map((p) =>
        p.type === 'dynamic-tool' ? ({ ...p, state: 'approval-responded', approval: { id: 'req_1_1', approved: true } } as typeof p) : p,
      ),
    };
    const rest = chunks.filter((c) => c.segment === 'req_1_1').map((c) => c.chunk);
    expect(rest.filter((c) => c.type === 'tool-input-start')).toEqual([]);
    const [done] = await assemble(rest, answered);
    expect(done.id).toBe(MSG);
    expect(done.parts.filter((p) => p.type === 'dynamic-tool')).toEqual([
      expect.objectContaining({ state: 'output-available', output: { bytes: 69 } }),
    ]);

    const refused = mapAll(events.slice(0, 3), ['req_1_1']).filter((c) => c.segment === 'req_1_1');
    expect(refused.map((c) => c.chunk)).toContainEqual({ type: 'tool-output-denied', toolCallId: 'call_1_1' });
  });
});
