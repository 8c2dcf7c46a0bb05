import { z } from 'zod';

/** Lifecycle event types of PROTOCOL.md §3. */
export const EVENT_TYPES = [
  'run_queued',
  'orchestration_started',
  'status',
  'agent_started',
  'agent_thinking',
  'tool_executing',
  'tool_progress',
  'tool_completed',
  'agent_completed',
  'clarification_requested',
  'approval_requested',
  'message_delta',
  'message',
  'orchestration_completed',
  'run_cancelled',
  'error',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const TERMINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set(['orchestration_completed', 'run_cancelled', 'error']);
export function isTerminal(type: EventType): boolean {
  return TERMINAL_EVENT_TYPES.has(type);
}

export const sourceSchema = z.object({ id: z.string(), title: z.string(), score: z.number() });
export type Source = z.infer<typeof sourceSchema>;

export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative().optional(),
});
export type Usage = z.infer<typeof usageSchema>;

/**
 * Which step of the run an `agent_*` or `tool_*` event comes from: the step's number in the run
 * (triage is "0"), so two steps of one agent (parallel or not) are told apart. Events stored
 * before it existed have none.
 */
const stepId = z.string().max(16).optional();

/** The `data` of each event type: the only definition of each payload. */
export const eventDataSchemas = {
  run_queued: z.object({ position: z.number().int().positive() }),
  orchestration_started: z.object({ intent: z.string().optional() }),
  status: z.object({ step: z.string(), message: z.string() }),
  agent_started: z.object({ agent: z.string(), stepId, description: z.string().optional() }),
  agent_thinking: z.object({ agent: z.string(), stepId, thought: z.string() }),
  tool_executing: z.object({
    agent: z.string(),
    stepId,
    tool: z.string(),
    callId: z.string(),
    input: z.unknown(),
    /** The input was over TOOL_PAYLOAD_MAX_BYTES: `input` is the start of its JSON text. */
    truncated: z.boolean().optional(),
  }),
  /** A long tool's progress (MCP progress notifications): `progress` of `total` when known, never going back within a call. */
  tool_progress: z.object({
    agent: z.string(),
    stepId,
    tool: z.string(),
    callId: z.string(),
    progress: z.number().nonnegative(),
    total: z.number().positive().optional(),
    message: z.string().optional(),
  }),
  tool_completed: z.object({
    agent: z.string(),
    stepId,
    tool: z.string(),
    callId: z.string(),
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: z.string().optional(),
    durationMs: z.number().nonnegative(),
    /** The output was over TOOL_PAYLOAD_MAX_BYTES: `output` is the start of its JSON text. */
    truncated: z.boolean().optional(),
  }),
  agent_completed: z.object({ agent: z.string(), stepId, durationMs: z.number().nonnegative(), summary: z.string().optional() }),
  clarification_requested: z.object({ requestId: z.string(), question: z.string(), choices: z.array(z.string()).optional() }),
  /** `tool`, `callId` and `input` when a tool call waits for the approval (its `tool_executing` follows it with that callId). */
  approval_requested: z.object({
    requestId: z.string(),
    action: z.string(),
    details: z.unknown(),
    tool: z.string().optional(),
    callId: z.string().optional(),
    input: z.unknown().optional(),
    /** The input was over TOOL_PAYLOAD_MAX_BYTES: `input` is the start of its JSON text. */
    truncated: z.boolean().optional(),
  }),
  message_delta: z.object({ messageId: z.string(), delta: z.string() }),
  message: z.object({
    messageId: z.string(),
    role: z.literal('assistant'),
    content: z.string(),
    metadata: z.looseObject({ intent: z.string(), sources: z.array(sourceSchema) }),
  }),
  orchestration_completed: z.object({ durationMs: z.number().nonnegative(), usage: usageSchema.optional() }),
  /** `usage`: what the run's finished steps used before it was cancelled (counted against the user's quota). */
  run_cancelled: z.object({ reason: z.string(), usage: usageSchema.optional() }),
  /** `usage`: what the run's finished steps used before it failed (counted against the user's quota). */
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean(), usage: usageSchema.optional() }),
} satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** PROTOCOL.md §4: `summary` fields, plus anything `full` adds. */
export const traceSchema = z.looseObject({
  latencyMs: z.number().nonnegative().optional(),
  tokens: z.number().int().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
});
export type Trace = z.infer<typeof traceSchema>;

export const TRACE_LEVELS = ['none', 'summary', 'full'] as const;
export type TraceLevel = (typeof TRACE_LEVELS)[number];

const envelopeBase = {
  runId: z.string(),
  conversationId: z.string(),
  ts: z.string(),
  progress: z.number().min(0).max(1),
  trace: traceSchema.optional(),
};

function envelopeOf<T extends EventType>(type: T) {
  return z.object({ ...envelopeBase, type: z.literal(type), data: eventDataSchemas[type] });
}

/**
 * An event as published to the EVENTS stream: the envelope of PROTOCOL.md §3 without its
 * `id`, which is the stream sequence JetStream assigns when it stores the message.
 */
export const storedEventSchema = z.discriminatedUnion('type', [
  envelopeOf('run_queued'),
  envelopeOf('orchestration_started'),
  envelopeOf('status'),
  envelopeOf('agent_started'),
  envelopeOf('agent_thinking'),
  envelopeOf('tool_executing'),
  envelopeOf('tool_progress'),
  envelopeOf('tool_completed'),
  envelopeOf('agent_completed'),
  envelopeOf('clarification_requested'),
  envelopeOf('approval_requested'),
  envelopeOf('message_delta'),
  envelopeOf('message'),
  envelopeOf('orchestration_completed'),
  envelopeOf('run_cancelled'),
  envelopeOf('error'),
]);

type EnvelopeOf<T extends EventType> = {
  type: T;
  runId: string;
  conversationId: string;
  ts: string;
  progress: number;
  data: EventData<T>;
  trace?: Trace;
};

/** An event as stored (no id yet). */
export type StoredEvent = { [T in EventType]: EnvelopeOf<T> }[EventType];

/** An event as clients receive it: `agent:event`, SSE `data`, replay. */
export type AgentEvent = StoredEvent & { id: string };
