import type { AgentEvent } from '@herald/contracts';
import type { UIMessageChunk } from 'ai';

/** The segment of a Herald run its first POST streams; later ones are named by the request they answered. */
export const START_SEGMENT = '';

/** Herald's data parts (PROTOCOL.md §9): status and progress are transient, a clarification stays in the message. */
const DATA_STATUS = 'data-herald-status';
export const DATA_PROGRESS = 'data-herald-progress';
export const DATA_CLARIFICATION = 'data-herald-clarification';

/** data-herald-progress is sent when the run's progress has grown by this much (and at 1). */
const PROGRESS_STEP = 0.01;

/** Knowledge-base documents are Markdown. */
const SOURCE_MEDIA_TYPE = 'text/markdown';

/** The tool name of an approval that is not about a tool call (so it still has a tool part to hang on). */
const APPROVAL_TOOL = 'herald_approval';

export interface UiChunk {
  /** START_SEGMENT, or the requestId of the clarification or approval this segment goes on after. */
  segment: string;
  chunk: UIMessageChunk;
  /** The segment's last chunk (`finish`, `abort` or `error`): its stream ends with it (then `[DONE]`). */
  last: boolean;
}

export interface UiMapperOptions {
  /** The id the run's answer is stored under: the `start` chunk's messageId. */
  messageId: string;
  /** Approvals the user refused: the segment that goes on after one says so first (`tool-output-denied`). */
  denied?: ReadonlySet<string>;
}

/**
 * The id of the assistant message that asked a clarification: its stream renames the message
 * to it (a second `start`) before the question, so that the answer, a new assistant message
 * after the user's reply, alone carries the stored id.
 */
export function questionMessageId(messageId: string, requestId: string): string {
  return `${messageId}-${requestId}`;
}

/**
 * Herald's lifecycle events of one run → UI message stream chunks (`ai` 6, the table in the
 * README). A pure state machine over the run's events from its first, like the AG-UI mapper:
 * a stream replayed from its start is the same stream. A clarification ends the stream with a
 * `data-herald-clarification` part, an approval with `tool-approval-request`; the POST that
 * answers one streams the next segment of the same run.
 */
export class UiMessageMapper {
  private segment = START_SEGMENT;
  private started = false;
  private ended = false;
  private text: { id: string; sent: string } | undefined;
  private readonly announcedTools = new Set<string>();
  private progress = -1;

  constructor(private readonly opts: UiMapperOptions) {}

  map(e: AgentEvent): UiChunk[] {
    if (this.ended) return [];
    const out: UiChunk[] = [];
    const push = (chunk: UIMessageChunk, last = false) => out.push({ segment: this.segment, chunk, last });
    if (!this.started) {
      push({ type: 'start', messageId: this.opts.messageId });
      this.started = true;
    }
    if (e.progress > this.progress && (e.progress - this.progress >= PROGRESS_STEP || e.progress === 1)) {
      this.progress = e.progress;
      push({ type: DATA_PROGRESS, data: { progress: e.progress }, transient: true });
    }
    switch (e.type) {
      case 'run_queued':
        push(status('queued', `Waiting for the conversation's earlier run (position ${e.data.position}).`, { position: e.data.position }));
        break;
      case 'orchestration_started':
        if (e.data.intent) push(status('intent', e.data.intent, { intent: e.data.intent }));
        break;
      case 'status':
        push(status(e.data.step, e.data.message));
        break;
      case 'agent_started':
        push(status('agent_started', e.data.description ?? e.data.agent, { agent: e.data.agent, ...stepOf(e.data) }));
        break;
      case 'agent_completed':
        push(
          status('agent_completed', e.data.summary ?? e.data.agent, {
            agent: e.data.agent,
            ...stepOf(e.data),
            durationMs: e.data.durationMs,
          }),
        );
        break;
      case 'agent_thinking': {
        const id = `reasoning-${e.id}`;
        push({ type: 'reasoning-start', id });
        push({ type: 'reasoning-delta', id, delta: e.data.thought });
        push({ type: 'reasoning-end', id });
        break;
      }
      case 'tool_executing':
        if (!this.announcedTools.has(e.data.callId)) for (const chunk of toolCall(e.data.callId, e.data.tool, e.data.input)) push(chunk);
        break;
      case 'tool_progress':
        push({
          type: DATA_PROGRESS,
          data: {
            toolCallId: e.data.callId,
            tool: e.data.tool,
            progress: e.data.progress,
            ...(e.data.total !== undefined ? { total: e.data.total } : {}),
            ...(e.data.message !== undefined ? { message: e.data.message } : {}),
          },
          transient: true,
        });
        break;
      case 'tool_completed':
        push(
          e.data.ok
            ? { type: 'tool-output-available', toolCallId: e.data.callId, output: e.data.output ?? null, dynamic: true }
            : { type: 'tool-output-error', toolCallId: e.data.callId, errorText: e.data.error ?? 'The tool failed.', dynamic: true },
        );
        break;
      case 'message_delta':
        if (e.data.delta === '') break;
        if (!this.text) {
          this.text = { id: e.data.messageId, sent: '' };
          push({ type: 'text-start', id: e.data.messageId });
        }
        this.text.sent += e.data.delta;
        push({ type: 'text-delta', id: this.text.id, delta: e.data.delta });
        break;
      case 'message': {
        const { messageId, content, metadata } = e.data;
        if (!this.text) push({ type: 'text-start', id: messageId });
        const sent = this.text?.sent ?? '';
        const rest = content.startsWith(sent) ? content.slice(sent.length) : '';
        if (rest !== '') push({ type: 'text-delta', id: messageId, delta: rest });
        push({ type: 'text-end', id: messageId });
        this.text = undefined;
        for (const source of metadata.sources) {
          push({
            type: 'source-document',
            sourceId: source.id,
            mediaType: SOURCE_MEDIA_TYPE,
            title: source.title,
            providerMetadata: { herald: { score: source.score } },
          });
        }
        break;
      }
      case 'clarification_requested':
        this.closeText(push);
        push({ type: 'start', messageId: questionMessageId(this.opts.messageId, e.data.requestId) });
        push({
          type: DATA_CLARIFICATION,
          id: e.data.requestId,
          data: { requestId: e.data.requestId, question: e.data.question, choices: e.data.choices ?? [] },
        });
        push({ type: 'finish', finishReason: 'other' }, true);
        this.openSegment(e.data.requestId, push);
        break;
      case 'approval_requested': {
        const callId = e.data.callId ?? `approval-${e.data.requestId}`;
        this.closeText(push);
        if (!this.announcedTools.has(callId)) {
          const input = e.data.callId !== undefined ? e.data.input : { action: e.data.action, details: e.data.details };
          for (const chunk of toolCall(callId, e.data.tool ?? APPROVAL_TOOL, input)) push(chunk);
          this.announcedTools.add(callId);
        }
        push({ type: 'tool-approval-request', approvalId: e.data.requestId, toolCallId: callId });
        push({ type: 'finish', finishReason: 'tool-calls' }, true);
        this.openSegment(e.data.requestId, push);
        if (this.opts.denied?.has(e.data.requestId)) push({ type: 'tool-output-denied', toolCallId: callId });
        break;
      }
      case 'orchestration_completed':
        this.closeText(push);
        push({ type: 'finish', finishReason: 'stop', ...(e.data.usage ? { messageMetadata: { usage: e.data.usage } } : {}) }, true);
        this.ended = true;
        break;
      case 'run_cancelled':
        this.closeText(push);
        push({ type: 'abort', reason: e.data.reason }, true);
        this.ended = true;
        break;
      case 'error':
        this.closeText(push);
        push({ type: 'error', errorText: e.data.message }, true);
        this.ended = true;
        break;
    }
    return out;
  }

  /** The segment the answer to `requestId` streams: a `start` that continues (or begins) the stored answer. */
  private openSegment(requestId: string, push: (chunk: UIMessageChunk) => void): void {
    this.segment = requestId;
    push({ type: 'start', messageId: this.opts.messageId });
  }

  private closeText(push: (chunk: UIMessageChunk) => void): void {
    if (this.text) push({ type: 'text-end', id: this.text.id });
    this.text = undefined;
  }
}

function status(step: string, message: string, extra: Record<string, unknown> = {}): UIMessageChunk {
  return { type: DATA_STATUS, data: { step, message, ...extra }, transient: true };
}

function toolCall(toolCallId: string, toolName: string, input: unknown): UIMessageChunk[] {
  return [
    { type: 'tool-input-start', toolCallId, toolName, dynamic: true },
    { type: 'tool-input-available', toolCallId, toolName, input: input ?? {}, dynamic: true },
  ];
}

/** A step's `stepId`, when its event has one (events stored before it existed do not). */
function stepOf(data: { stepId?: string }): { stepId?: string } {
  return data.stepId !== undefined ? { stepId: data.stepId } : {};
}
