import { type BaseEvent, EventType } from '@ag-ui/core';
import { EventSchemas } from '@ag-ui/core/schemas';
import { verifyEvents } from '@ag-ui/client';
import type { AgentEvent, EventData, EventType as HeraldType } from '@herald/contracts';
import { from } from 'rxjs';
import { AguiEventMapper, type AguiFrame, HERALD_PROGRESS, START_SEGMENT } from './agui-event-mapper';
import { isFrameAfter, parseFrameId } from './agui-frame-id';

const RUN = '6f1c8a57-1111-4222-8333-944455556666';
const CONV = '0a1b2c3d-1111-4222-8333-944455556666';
const MSG = '7e7e7e7e-1111-4222-8333-944455556666';

/** A run's events with increasing ids (from 100) and a progress that never decreases. */
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

function mapAll(events: AgentEvent[], ids = { threadId: 'thread-1', runId: 'agui-run-1' }): AguiFrame[] {
  const mapper = new AguiEventMapper(ids);
  return events.flatMap((e) => mapper.map(e));
}

/** What @ag-ui/client's HttpAgent checks on every stream: the order rules of the protocol. */
function verified(frames: AguiFrame[]): Promise<BaseEvent[]> {
  type Source = Parameters<ReturnType<typeof verifyEvents>>[0];
  return new Promise((resolve, reject) => {
    const out: BaseEvent[] = [];
    // @ag-ui/client brings its own copy of rxjs: an rxjs Observable of ours is one to it, but not to TypeScript.
    verifyEvents(false)(from(frames.map((f) => f.event as BaseEvent)) as unknown as Source).subscribe({
      next: (event) => out.push(event),
      error: reject,
      complete: () => resolve(out),
    });
  });
}

const question = run(
  ['orchestration_started', { intent: 'question' }, 0.01],
  ['agent_started', { agent: 'triage' }, 0.05],
  ['agent_thinking', { agent: 'triage', thought: 'Looks like a question.' }],
  ['agent_completed', { agent: 'triage', durationMs: 3 }, 0.15],
  ['agent_started', { agent: 'knowledge' }],
  [
    'tool_executing',
    { agent: 'knowledge', tool: 'search', callId: 'call_1_1', input: { query: 'jetstream' } } satisfies EventData<'tool_executing'>,
  ],
  ['tool_completed', { agent: 'knowledge', tool: 'search', callId: 'call_1_1', ok: true, output: [{ id: 'd1' }], durationMs: 4 }, 0.4],
  ['agent_completed', { agent: 'knowledge', durationMs: 9 }, 0.5],
  ['agent_started', { agent: 'reporting' }],
  ['message_delta', { messageId: MSG, delta: 'Jet' }, 0.6],
  ['message_delta', { messageId: MSG, delta: 'Stream ' }, 0.7],
  ['message_delta', { messageId: MSG, delta: 'persists.' }, 0.8],
  ['message', { messageId: MSG, role: 'assistant', content: 'JetStream persists.', metadata: { intent: 'question', sources: [] } }],
  ['agent_completed', { agent: 'reporting', durationMs: 5 }, 0.97],
  ['orchestration_completed', { durationMs: 30, usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } }, 1],
);

describe('AguiEventMapper', () => {
  it('maps a completed run to a valid AG-UI stream: RUN_STARTED first, steps, reasoning, the tool call, the text, RUN_FINISHED success with usage', async () => {
    const frames = mapAll(question);
    for (const frame of frames) expect(EventSchemas.safeParse(frame.event).success).toBe(true);
    const events = await verified(frames);
    await expect(verified(frames.slice(1))).rejects.toThrow(/RUN_STARTED/); // the checker is on
    expect(events[0]).toMatchObject({ type: EventType.RUN_STARTED, threadId: 'thread-1', runId: 'agui-run-1' });
    expect(events.at(-1)).toMatchObject({
      type: EventType.RUN_FINISHED,
      outcome: { type: 'success' },
      usage: [{ inputTokens: 10, outputTokens: 5, totalTokens: 15 }],
    });
    expect(frames.filter((f) => f.last)).toEqual([frames.at(-1)]);
    expect(events.filter((e) => e.type === EventType.STEP_STARTED).map((e) => e.stepName)).toEqual(['triage', 'knowledge', 'reporting']);
    expect(events.filter((e) => e.type === EventType.STEP_FINISHED).map((e) => e.stepName)).toEqual(['triage', 'knowledge', 'reporting']);
    expect(events.filter((e) => e.type.startsWith('TOOL_CALL')).map((e) => [e.type, e.toolCallId])).toEqual([
      [EventType.TOOL_CALL_START, 'call_1_1'],
      [EventType.TOOL_CALL_ARGS, 'call_1_1'],
      [EventType.TOOL_CALL_END, 'call_1_1'],
      [EventType.TOOL_CALL_RESULT, 'call_1_1'],
    ]);
    expect(events.find((e) => e.type === EventType.TOOL_CALL_ARGS)?.delta).toBe('{"query":"jetstream"}');
    const text = events.filter((e) => e.type === EventType.TEXT_MESSAGE_CONTENT).map((e) => e.delta);
    expect(text.join('')).toBe('JetStream persists.');
    expect(events.find((e) => e.type === EventType.TEXT_MESSAGE_START)).toMatchObject({ messageId: MSG, role: 'assistant' });
    expect(events.find((e) => e.type === EventType.REASONING_MESSAGE_CONTENT)?.delta).toBe('Looks like a question.');
    const progress = events
      .filter((e) => e.type === EventType.CUSTOM && e.name === HERALD_PROGRESS)
      .map((e) => (e.value as { progress: number }).progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1);
  });

  it('gives every frame an id from its event, `<id>` then `<id>:<n>`, strictly increasing', () => {
    const frames = mapAll(question);
    expect(frames[0].id).toBe('100');
    expect(frames[1].id).toBe('100:1');
    for (let i = 1; i < frames.length; i++) expect(isFrameAfter(frames[i].id, parseFrameId(frames[i - 1].id, 'id'))).toBe(true);
    expect(new Set(frames.map((f) => f.id)).size).toBe(frames.length);
  });

  it('is deterministic: the frames after any cursor are those an uninterrupted stream had after it', () => {
    const frames = mapAll(question);
    const again = mapAll(question);
    expect(again).toEqual(frames);
    const cursor = frames[17].id;
    const rest = mapAll(question).filter((f) => isFrameAfter(f.id, parseFrameId(cursor, 'after')));
    expect([...frames.slice(0, 18), ...rest]).toEqual(frames);
  });

  it('takes the text from `message` when nothing streamed, and only the missing end when deltas stopped short', async () => {
    const unstreamed = run(
      ['orchestration_started', {}],
      ['message', { messageId: MSG, role: 'assistant', content: 'All at once.', metadata: { intent: 'chitchat', sources: [] } }],
      ['orchestration_completed', { durationMs: 1 }, 1],
    );
    const events = await verified(mapAll(unstreamed));
    expect(events.filter((e) => e.type === EventType.TEXT_MESSAGE_CONTENT).map((e) => e.delta)).toEqual(['All at once.']);
    const short = run(
      ['orchestration_started', {}],
      ['message_delta', { messageId: MSG, delta: 'All ' }],
      ['message', { messageId: MSG, role: 'assistant', content: 'All at once.', metadata: { intent: 'chitchat', sources: [] } }],
      ['orchestration_completed', { durationMs: 1 }, 1],
    );
    const text = (await verified(mapAll(short))).filter((e) => e.type === EventType.TEXT_MESSAGE_CONTENT).map((e) => e.delta);
    expect(text.join('')).toBe('All at once.');
  });

  it('ends a cancelled run with every step and message closed, then RUN_FINISHED cancelled; an error with RUN_ERROR', async () => {
    const cancelled = run(
      ['orchestration_started', {}],
      ['agent_started', { agent: 'reporting' }],
      ['message_delta', { messageId: MSG, delta: 'Half' }],
      ['run_cancelled', { reason: 'cancelled_by_user' }, 1],
    );
    const events = await verified(mapAll(cancelled));
    expect(events.slice(-3).map((e) => e.type)).toEqual([EventType.TEXT_MESSAGE_END, EventType.STEP_FINISHED, EventType.RUN_FINISHED]);
    expect(events.at(-1)).toMatchObject({ outcome: { type: 'cancelled' } });
    const failed = run(['orchestration_started', {}], ['error', { code: 'TIMEOUT', message: 'Too slow.', retryable: true }, 1]);
    const last = (await verified(mapAll(failed))).at(-1);
    expect(last).toMatchObject({ type: EventType.RUN_ERROR, code: 'TIMEOUT', message: 'Too slow.' });
  });

  it('splits a run at each interrupt: the first AG-UI run ends with the interrupt, the next one re-opens the step and streams the rest', async () => {
    const events = run(
      ['orchestration_started', {}],
      ['agent_started', { agent: 'data' }],
      ['clarification_requested', { requestId: 'req_1_1', question: 'Revenue or units?', choices: ['revenue', 'units sold'] }],
      ['status', { step: 'resuming', message: 'Resuming' }],
      [
        'approval_requested',
        {
          requestId: 'req_1_2',
          action: 'Export 4 rows as CSV',
          details: { rows: 4 },
          tool: 'export_csv',
          callId: 'call_1_1',
          input: { rows: 4 },
        },
      ],
      ['tool_executing', { agent: 'data', tool: 'export_csv', callId: 'call_1_1', input: { rows: 4 } }],
      ['tool_completed', { agent: 'data', tool: 'export_csv', callId: 'call_1_1', ok: true, output: 'region,value', durationMs: 2 }],
      ['agent_completed', { agent: 'data', durationMs: 9 }],
      ['message', { messageId: MSG, role: 'assistant', content: 'Done.', metadata: { intent: 'data', sources: [] } }],
      ['orchestration_completed', { durationMs: 30 }, 1],
    );
    const frames = mapAll(events);
    const segments = [START_SEGMENT, 'req_1_1', 'req_1_2'].map((s) => frames.filter((f) => f.segment === s));
    for (const segment of segments) {
      const verifiedEvents = await verified(segment);
      expect(verifiedEvents[0].type).toBe(EventType.RUN_STARTED);
      expect(segment.at(-1)!.last).toBe(true);
      expect(segment.filter((f) => f.last)).toHaveLength(1);
    }
    expect(segments[0].at(-1)!.event).toMatchObject({
      type: EventType.RUN_FINISHED,
      outcome: {
        type: 'interrupt',
        interrupts: [
          { id: 'req_1_1', reason: 'clarification', message: 'Revenue or units?', responseSchema: { enum: ['revenue', 'units sold'] } },
        ],
      },
    });
    expect(segments[1].map((f) => f.event.type)).toContain(EventType.STEP_STARTED);
    // The approved tool call is announced before the interrupt and answered in the next AG-UI run against the same toolCallId.
    const second = segments[1].map((f) => f.event);
    expect(second.filter((e) => e.type.startsWith('TOOL_CALL')).map((e) => e.type)).toEqual([
      EventType.TOOL_CALL_START,
      EventType.TOOL_CALL_ARGS,
      EventType.TOOL_CALL_END,
    ]);
    expect(second.at(-1)).toMatchObject({
      outcome: { type: 'interrupt', interrupts: [{ id: 'req_1_2', reason: 'approval', toolCallId: 'call_1_1' }] },
    });
    const third = segments[2].map((f) => f.event);
    expect(third.filter((e) => e.type.startsWith('TOOL_CALL')).map((e) => [e.type, (e as { toolCallId: string }).toolCallId])).toEqual([
      [EventType.TOOL_CALL_RESULT, 'call_1_1'],
    ]);
    expect(third.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });
    // Every frame belongs to exactly one segment and the ids never repeat across them.
    expect(new Set(frames.map((f) => f.id)).size).toBe(frames.length);
  });

  it('gives parallel steps of one agent names of their own', async () => {
    const events = run(
      ['orchestration_started', {}],
      ['agent_started', { agent: 'knowledge' }],
      ['agent_started', { agent: 'knowledge' }],
      ['agent_completed', { agent: 'knowledge', durationMs: 1 }],
      ['agent_completed', { agent: 'knowledge', durationMs: 1 }],
      ['orchestration_completed', { durationMs: 2 }, 1],
    );
    const steps = (await verified(mapAll(events))).filter((e) => e.type === EventType.STEP_STARTED).map((e) => e.stepName);
    expect(steps).toEqual(['knowledge', 'knowledge (2)']);
  });

  it('closes the step an agent_completed names by its stepId, whichever parallel step ends first', async () => {
    const events = run(
      ['orchestration_started', {}],
      ['agent_started', { agent: 'knowledge', stepId: '1' }],
      ['agent_started', { agent: 'knowledge', stepId: '2' }],
      ['agent_completed', { agent: 'knowledge', stepId: '2', durationMs: 1 }],
      ['agent_completed', { agent: 'knowledge', stepId: '1', durationMs: 1 }],
      ['orchestration_completed', { durationMs: 2 }, 1],
    );
    const steps = (await verified(mapAll(events)))
      .filter((e) => e.type === EventType.STEP_STARTED || e.type === EventType.STEP_FINISHED)
      .map((e) => [e.type, (e as unknown as { stepName: string }).stepName]);
    expect(steps).toEqual([
      [EventType.STEP_STARTED, 'knowledge'],
      [EventType.STEP_STARTED, 'knowledge (2)'],
      [EventType.STEP_FINISHED, 'knowledge (2)'],
      [EventType.STEP_FINISHED, 'knowledge'],
    ]);
  });

  it('reports a tool’s progress as herald.progress naming the tool call', async () => {
    const events = run(
      ['orchestration_started', {}],
      ['tool_executing', { agent: 'data', tool: 'mcp_scan', callId: 'call_1_1', input: {} }],
      ['tool_progress', { agent: 'data', tool: 'mcp_scan', callId: 'call_1_1', progress: 3, total: 10, message: 'Page 3' }],
      ['tool_completed', { agent: 'data', tool: 'mcp_scan', callId: 'call_1_1', ok: false, error: 'Gone.', durationMs: 2 }],
      ['orchestration_completed', { durationMs: 2 }, 1],
    );
    const mapped = await verified(mapAll(events));
    expect(mapped.find((e) => e.type === EventType.CUSTOM && (e.value as { toolCallId?: string }).toolCallId)).toMatchObject({
      name: HERALD_PROGRESS,
      value: { toolCallId: 'call_1_1', tool: 'mcp_scan', progress: 3, total: 10, message: 'Page 3' },
    });
    expect(mapped.find((e) => e.type === EventType.TOOL_CALL_RESULT)).toMatchObject({ toolCallId: 'call_1_1', content: 'Gone.' });
  });

  it('sends herald.progress in steps of at least 0.01 (not once per token), and always the final 1', async () => {
    const deltas = Array.from({ length: 500 }, (_, i): [HeraldType, Record<string, unknown>, number] => [
      'message_delta',
      { messageId: MSG, delta: 'x' },
      0.5 + i * 0.0009,
    ]);
    const events = run(['orchestration_started', {}], ...deltas, ['orchestration_completed', { durationMs: 1 }, 1]);
    const progress = (await verified(mapAll(events))).filter((e) => e.type === EventType.CUSTOM && e.name === HERALD_PROGRESS);
    expect(progress.length).toBeLessThanOrEqual(60);
    expect(progress.length).toBeGreaterThan(40);
    expect(progress.at(-1)).toMatchObject({ value: { progress: 1 } });
  });

  it('ignores whatever follows the terminal event', () => {
    const mapper = new AguiEventMapper({ threadId: 't', runId: 'r' });
    const [start, done, late] = run(
      ['orchestration_started', {}],
      ['orchestration_completed', { durationMs: 1 }, 1],
      ['status', { step: 'x', message: 'y' }],
    );
    mapper.map(start);
    mapper.map(done);
    expect(mapper.map(late)).toEqual([]);
  });
});
