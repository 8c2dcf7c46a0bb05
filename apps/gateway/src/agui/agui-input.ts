import { contentToText, type ResumeEntry, type RunAgentInput } from '@ag-ui/core';
import { RunAgentInputSchema } from '@ag-ui/core/schemas';
import { ErrorCode, HeraldError, ON_BUSY, TRACE_LEVELS, type RunOptions } from '@herald/contracts';
import { z } from 'zod';
import { conversationIdOfThread } from '../run-stream/thread-id';

/** An AG-UI runId: any string a client makes up, within reason. */
const MAX_AGUI_RUN_ID = 256;

/** `forwardedProps` Herald reads (PROTOCOL.md §8); other keys are the client's business and are ignored. */
const forwardedPropsSchema = z.object({
  traceLevel: z.enum(TRACE_LEVELS).optional(),
  stream: z.boolean().optional(),
  onBusy: z.enum(ON_BUSY).optional(),
});

/** What Herald takes from a RunAgentInput. */
export interface AguiRequest {
  input: RunAgentInput;
  conversationId: string;
  /** The last user message's text (text parts joined); empty when there is none. */
  content: string;
  options: RunOptions;
  resume: ResumeEntry[];
}

/** Validates a `POST /v1/agui` body with AG-UI's own schema, then Herald's rules; INVALID_INPUT names the field. */
export function parseAguiRequest(userId: string, body: unknown): AguiRequest {
  const parsed = RunAgentInputSchema.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error.issues[0]);
  const input = parsed.data as RunAgentInput;
  if (input.runId.length < 1 || input.runId.length > MAX_AGUI_RUN_ID) {
    throw new HeraldError(ErrorCode.INVALID_INPUT, `runId: must be 1 to ${MAX_AGUI_RUN_ID} characters`);
  }
  const conversationId = conversationIdOfThread(userId, input.threadId);
  const props = isPlainObject(input.forwardedProps) ? input.forwardedProps : {};
  const forwarded = forwardedPropsSchema.safeParse({ traceLevel: props.traceLevel, stream: props.stream, onBusy: props.onBusy });
  if (!forwarded.success) throw invalid(forwarded.error.issues[0], 'forwardedProps');
  const lastUser = [...input.messages].reverse().find((m) => m.role === 'user');
  const content = lastUser && lastUser.role === 'user' ? contentToText(lastUser.content) : '';
  return {
    input,
    conversationId,
    content,
    options: {
      traceLevel: forwarded.data.traceLevel ?? 'none',
      stream: forwarded.data.stream ?? true,
      onBusy: forwarded.data.onBusy ?? 'enqueue',
    },
    resume: input.resume ?? [],
  };
}

function invalid(issue: { path: PropertyKey[]; message: string } | undefined, prefix?: string): HeraldError {
  const path = [prefix, ...(issue?.path ?? [])].filter((p) => p !== undefined).join('.');
  return new HeraldError(ErrorCode.INVALID_INPUT, `${path || 'body'}: ${issue?.message ?? 'is not a RunAgentInput'}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A clarification's answer: the text, or `{ answer }`. */
export function clarificationAnswer(entry: ResumeEntry, index: number): string {
  const payload: unknown = entry.payload;
  const text =
    typeof payload === 'string' ? payload : isPlainObject(payload) && typeof payload.answer === 'string' ? payload.answer : undefined;
  if (text === undefined || text.trim() === '' || text.length > 8000) {
    throw new HeraldError(ErrorCode.INVALID_INPUT, `resume.${index}.payload: must be the answer, a string of 1 to 8000 characters`);
  }
  return text.trim();
}

/** An approval's answer: `{ approved, comment? }`, or a bare boolean. */
export function approvalAnswer(entry: ResumeEntry, index: number): { approved: boolean; comment?: string } {
  if (entry.status === 'cancelled') return { approved: false };
  const payload: unknown = entry.payload;
  if (typeof payload === 'boolean') return { approved: payload };
  if (isPlainObject(payload) && typeof payload.approved === 'boolean') {
    const { comment } = payload;
    if (comment === undefined) return { approved: payload.approved };
    if (typeof comment === 'string' && comment.length <= 2000) return { approved: payload.approved, comment };
  }
  throw new HeraldError(ErrorCode.INVALID_INPUT, `resume.${index}.payload: must be { approved: boolean, comment?: string }`);
}
