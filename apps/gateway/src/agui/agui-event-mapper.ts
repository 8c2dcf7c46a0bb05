import { type AGUIEvent, EventType, type Interrupt, type TokenUsage } from '@ag-ui/core';
import type { AgentEvent, EventData } from '@herald/contracts';
import { frameIdOf } from './agui-frame-id';

/** The segment of a Herald run that its first AG-UI run streams; later ones are named by the interrupt they resume after. */
export const START_SEGMENT = '';

/** CUSTOM event names (PROTOCOL.md §8). */
const HERALD_STATUS = 'herald.status';
export const HERALD_PROGRESS = 'herald.progress';

/** herald.progress is sent when the run's progress has grown by this much since the last one sent (and at 1). */
const PROGRESS_STEP = 0.01;

/** One AG-UI event with its SSE id, and which AG-UI run (segment of the Herald run) it belongs to. */
export interface AguiFrame {
  /** `<eventId>`, then `<eventId>:1`, `<eventId>:2`… for further frames made from the same event. */
  id: string;
  /** START_SEGMENT, or the requestId of the interrupt after which this AG-UI run resumes the Herald run. */
  segment: string;
  event: AGUIEvent;
  /** The segment's last frame (RUN_FINISHED or RUN_ERROR): its stream ends with it. */
  last: boolean;
}

export interface AguiMapperIds {
  threadId: string;
  /** The AG-UI runId of the stream (RUN_STARTED / RUN_FINISHED carry it). */
  runId: string;
}

/** JSON Schema of an approval's answer (the `payload` of its resume entry). */
const APPROVAL_RESPONSE_SCHEMA = {
  type: 'object',
  properties: { approved: { type: 'boolean' }, comment: { type: 'string', maxLength: 2000 } },
  required: ['approved'],
  additionalProperties: false,
} as const;

interface OpenStep {
  key: string;
  name: string;
}

type Data<T extends AgentEvent['type']> = EventData<T>;

/**
 * Herald's lifecycle events of one run → AG-UI events, in order (the table in the README).
 * A pure state machine over the run's events from its first: the same events always give the
 * same frames with the same ids, so a stream resumed after any frame, on any gateway, goes on
 * exactly where it stopped. Each clarification or approval ends an AG-UI run (RUN_FINISHED
 * with an interrupt outcome, the open steps closed first) and opens the next segment
 * (RUN_STARTED, the steps re-opened), which the AG-UI run that answers it streams.
 */
export class AguiEventMapper {
  private segment = START_SEGMENT;
  private runOpen = false;
  private ended = false;
  private readonly steps: OpenStep[] = [];
  private text: { messageId: string; sent: string } | undefined;
  /** Tool calls whose START/ARGS/END went out with their approval: their tool_executing adds nothing. */
  private readonly announcedTools = new Set<string>();
  private progress = -1;

  constructor(private readonly ids: AguiMapperIds) {}

  map(e: AgentEvent): AguiFrame[] {
    if (this.ended) return [];
    const frames: AguiFrame[] = [];
    const timestamp = Date.parse(e.ts);
    const push = (event: AGUIEvent, last = false) =>
      frames.push({ id: frameIdOf(e.id, frames.length), segment: this.segment, event: { ...event, timestamp }, last });

    if (!this.runOpen) {
      push(this.runStarted());
      this.runOpen = true;
    }
    // At most a hundred steps per run (not one per streamed token); always the last one, 1.
    if (e.progress > this.progress && (e.progress - this.progress >= PROGRESS_STEP || e.progress === 1)) {
      this.progress = e.progress;
      push({ type: EventType.CUSTOM, name: HERALD_PROGRESS, value: { progress: e.progress } });
    }
    switch (e.type) {
      case 'run_queued':
        push(
          this.status('queued', `Waiting for the conversation's earlier run (position ${e.data.position}).`, { position: e.data.position }),
        );
        break;
      case 'orchestration_started':
        if (e.data.intent) push(this.status('intent', e.data.intent, { intent: e.data.intent }));
        break;
      case 'status':
        push(this.status(e.data.step, e.data.message));
        break;
      case 'agent_started':
        push({ type: EventType.STEP_STARTED, stepName: this.openStep(e.data) });
        break;
      case 'agent_completed': {
        const name = this.closeStep(e.data);
        if (name !== undefined) push({ type: EventType.STEP_FINISHED, stepName: name });
        break;
      }
      case 'agent_thinking': {
        const messageId = `reasoning-${e.id}`;
        push({ type: EventType.REASONING_START, messageId });
        push({ type: EventType.REASONING_MESSAGE_START, messageId, role: 'reasoning' });
        push({ type: EventType.REASONING_MESSAGE_CONTENT, messageId, delta: e.data.thought });
        push({ type: EventType.REASONING_MESSAGE_END, messageId });
        push({ type: EventType.REASONING_END, messageId });
        break;
      }
      case 'tool_executing':
        if (!this.announcedTools.has(e.data.callId)) for (const event of toolCall(e.data.callId, e.data.tool, e.data.input)) push(event);
        break;
      case 'tool_progress':
        push({
          type: EventType.CUSTOM,
          name: HERALD_PROGRESS,
          value: {
            toolCallId: e.data.callId,
            tool: e.data.tool,
            progress: e.data.progress,
            ...(e.data.total !== undefined ? { total: e.data.total } : {}),
            ...(e.data.message !== undefined ? { message: e.data.message } : {}),
          },
        });
        break;
      case 'tool_completed':
        push({
          type: EventType.TOOL_CALL_RESULT,
          messageId: `${e.runId}:${e.data.callId}`,
          toolCallId: e.data.callId,
          content: e.data.ok ? jsonText(e.data.output) : (e.data.error ?? 'The tool failed.'),
          role: 'tool',
          metadata: { herald: { ok: e.data.ok, durationMs: e.data.durationMs, ...(e.data.truncated ? { truncated: true } : {}) } },
        });
        break;
      case 'message_delta':
        if (e.data.delta === '') break;
        if (!this.text) {
          this.text = { messageId: e.data.messageId, sent: '' };
          push({ type: EventType.TEXT_MESSAGE_START, messageId: e.data.messageId, role: 'assistant' });
        }
        this.text.sent += e.data.delta;
        push({ type: EventType.TEXT_MESSAGE_CONTENT, messageId: this.text.messageId, delta: e.data.delta });
        break;
      case 'message': {
        const { messageId, content, metadata } = e.data;
        if (!this.text) push({ type: EventType.TEXT_MESSAGE_START, messageId, role: 'assistant' });
        const sent = this.text?.sent ?? '';
        // Streamed deltas add up to the content; what they did not carry (no streaming) comes now.
        const rest = content.startsWith(sent) ? content.slice(sent.length) : '';
        if (rest !== '') push({ type: EventType.TEXT_MESSAGE_CONTENT, messageId, delta: rest });
        push({ type: EventType.TEXT_MESSAGE_END, messageId, metadata: { herald: { intent: metadata.intent, sources: metadata.sources } } });
        this.text = undefined;
        break;
      }
      case 'clarification_requested':
        this.interrupt(e.data.requestId, clarificationInterrupt(e.data), [], push);
        break;
      case 'approval_requested':
        this.interrupt(e.data.requestId, approvalInterrupt(e.data), approvedToolCall(e.data), push);
        break;
      case 'orchestration_completed':
        this.closeAll(push);
        push(
          {
            type: EventType.RUN_FINISHED,
            ...this.ids,
            outcome: { type: 'success' },
            ...(e.data.usage ? { usage: [tokenUsage(e.data.usage)] } : {}),
          },
          true,
        );
        this.ended = true;
        break;
      case 'run_cancelled':
        this.closeAll(push);
        push(
          { type: EventType.RUN_FINISHED, ...this.ids, outcome: { type: 'cancelled' }, metadata: { herald: { reason: e.data.reason } } },
          true,
        );
        this.ended = true;
        break;
      case 'error':
        push(
          { type: EventType.RUN_ERROR, message: e.data.message, code: e.data.code, metadata: { herald: { retryable: e.data.retryable } } },
          true,
        );
        this.ended = true;
        break;
    }
    return frames;
  }

  private runStarted(): AGUIEvent {
    return { type: EventType.RUN_STARTED, ...this.ids };
  }

  private status(step: string, message: string, extra: Record<string, unknown> = {}): AGUIEvent {
    return { type: EventType.CUSTOM, name: HERALD_STATUS, value: { step, message, ...extra } };
  }

  /**
   * Sub-agents of one run may share a name (parallel steps): each open step gets a name of its
   * own (the agent, then `<agent> (2)`…), and its agent_completed closes it by its stepId.
   */
  private openStep(data: Data<'agent_started'>): string {
    const key = stepKey(data);
    let name = data.agent;
    for (let n = 2; this.steps.some((s) => s.name === name); n++) name = `${data.agent} (${n})`;
    this.steps.push({ key, name });
    return name;
  }

  private closeStep(data: Data<'agent_completed'>): string | undefined {
    const index = this.steps.findIndex((s) => s.key === stepKey(data));
    if (index === -1) return undefined;
    return this.steps.splice(index, 1)[0].name;
  }

  /** AG-UI ends a run only with every step and message closed. */
  private closeAll(push: (event: AGUIEvent) => void): void {
    if (this.text) push({ type: EventType.TEXT_MESSAGE_END, messageId: this.text.messageId });
    this.text = undefined;
    for (const step of this.steps.splice(0).reverse()) push({ type: EventType.STEP_FINISHED, stepName: step.name });
  }

  /**
   * Ends the current AG-UI run with an interrupt outcome and opens the next segment, which
   * re-opens what the Herald run still has open (its steps, a message being written).
   */
  private interrupt(
    requestId: string,
    interrupt: Interrupt,
    toolEvents: AGUIEvent[],
    push: (event: AGUIEvent, last?: boolean) => void,
  ): void {
    const steps = [...this.steps];
    const text = this.text;
    for (const event of toolEvents) push(event);
    if (text) push({ type: EventType.TEXT_MESSAGE_END, messageId: text.messageId });
    for (const step of [...steps].reverse()) push({ type: EventType.STEP_FINISHED, stepName: step.name });
    push({ type: EventType.RUN_FINISHED, ...this.ids, outcome: { type: 'interrupt', interrupts: [interrupt] } }, true);
    this.segment = requestId;
    push(this.runStarted());
    for (const step of steps) push({ type: EventType.STEP_STARTED, stepName: step.name });
    if (text) push({ type: EventType.TEXT_MESSAGE_START, messageId: text.messageId, role: 'assistant' });
    for (const event of toolEvents) if (event.type === EventType.TOOL_CALL_START) this.announcedTools.add(event.toolCallId);
  }
}

/** A step's key: its agent and `stepId` (events stored before stepId existed: the agent alone). */
function stepKey(data: { agent: string; stepId?: string }): string {
  return data.stepId !== undefined ? `${data.agent}#${data.stepId}` : data.agent;
}

function toolCall(toolCallId: string, toolCallName: string, input: unknown): AGUIEvent[] {
  return [
    { type: EventType.TOOL_CALL_START, toolCallId, toolCallName },
    { type: EventType.TOOL_CALL_ARGS, toolCallId, delta: jsonText(input ?? {}) },
    { type: EventType.TOOL_CALL_END, toolCallId },
  ];
}

/** A payload as text: JSON, or the string itself (a cut payload is the start of its JSON text). */
function jsonText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? null);
}

function clarificationInterrupt(data: Data<'clarification_requested'>): Interrupt {
  return {
    id: data.requestId,
    reason: 'clarification',
    message: data.question,
    responseSchema: data.choices?.length ? { type: 'string', enum: data.choices } : { type: 'string', minLength: 1 },
    ...(data.choices?.length ? { metadata: { herald: { choices: data.choices } } } : {}),
  };
}

/** An approval that names a tool call (`tool`, `callId`, `input`, PROTOCOL.md §3) announces that call first. */
function approvalTool(data: Data<'approval_requested'>): { tool: string; callId: string; input: unknown } | undefined {
  const { tool, callId, input } = data;
  return tool !== undefined && callId !== undefined ? { tool, callId, input } : undefined;
}

function approvedToolCall(data: Data<'approval_requested'>): AGUIEvent[] {
  const tool = approvalTool(data);
  return tool ? toolCall(tool.callId, tool.tool, tool.input) : [];
}

function approvalInterrupt(data: Data<'approval_requested'>): Interrupt {
  const tool = approvalTool(data);
  return {
    id: data.requestId,
    reason: 'approval',
    message: data.action,
    ...(tool ? { toolCallId: tool.callId } : {}),
    responseSchema: { ...APPROVAL_RESPONSE_SCHEMA },
    metadata: { herald: { action: data.action, details: data.details } },
  };
}

function tokenUsage(usage: NonNullable<Data<'orchestration_completed'>['usage']>): TokenUsage {
  return { inputTokens: usage.promptTokens, outputTokens: usage.completionTokens, totalTokens: usage.totalTokens };
}
