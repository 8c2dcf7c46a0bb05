import type { AgentEvent } from '@herald/contracts';

const TERMINAL = new Set(['orchestration_completed', 'run_cancelled', 'error']);
/** The events whose data carry `agent` and `stepId` (PROTOCOL.md §3). */
const STEP_EVENTS = new Set(['agent_started', 'agent_thinking', 'agent_completed', 'tool_executing', 'tool_progress', 'tool_completed']);

/**
 * The run invariants of PROTOCOL.md §3, checked on the events of one run as a client saw
 * them. Returns the list of violations (empty when the run is well-formed).
 */
export function runViolations(events: AgentEvent[], opts: { stream?: boolean } = {}): string[] {
  const v: string[] = [];
  if (events.length === 0) return ['no events'];
  const runIds = new Set(events.map((e) => e.runId));
  if (runIds.size !== 1) v.push(`events of ${runIds.size} runs`);

  let lastId = -1n;
  let lastProgress = 0;
  for (const e of events) {
    if (!/^\d+$/.test(e.id)) v.push(`id ${e.id} is not decimal digits`);
    else if (BigInt(e.id) <= lastId) v.push(`id ${e.id} does not increase`);
    else lastId = BigInt(e.id);
    if (e.progress < lastProgress) v.push(`progress decreases at ${e.type} (${lastProgress} → ${e.progress})`);
    if (e.progress < 0 || e.progress > 1) v.push(`progress ${e.progress} out of range`);
    lastProgress = Math.max(lastProgress, e.progress);
    if (Number.isNaN(Date.parse(e.ts))) v.push(`bad ts ${e.ts}`);
  }

  const first = events.find((e) => e.type !== 'run_queued');
  const terminals = events.filter((e) => TERMINAL.has(e.type));
  if (terminals.length !== 1) v.push(`${terminals.length} terminal events`);
  const last = events[events.length - 1];
  if (!TERMINAL.has(last.type)) v.push(`last event is ${last.type}, not terminal`);
  if (last.progress !== 1) v.push(`terminal progress is ${last.progress}`);
  if (first && first.type !== 'orchestration_started' && last.type !== 'run_cancelled') v.push(`first event is ${first.type}`);

  // Pairs are kept per step (agent and stepId): the steps of a parallel stage interleave.
  const open = new Map<string, number>();
  const calls = new Map<string, { state: 'open' | 'closed'; step: string }>();
  for (const e of events) {
    if (!STEP_EVENTS.has(e.type)) continue;
    const data = e.data as { agent: string; stepId?: unknown };
    if (typeof data.stepId !== 'string' || !/^\d+$/.test(data.stepId)) v.push(`${e.type} ${e.id} has no stepId`);
    const step = `${data.agent}#${String(data.stepId)}`;
    if (e.type === 'agent_started') {
      if (open.has(step)) v.push(`step ${step} started twice`);
      open.set(step, (open.get(step) ?? 0) + 1);
    }
    if (e.type === 'agent_completed') {
      const n = open.get(step) ?? 0;
      if (n === 0) v.push(`agent_completed for ${step} without agent_started`);
      open.set(step, n - 1);
    }
    if (e.type === 'tool_executing') {
      if (calls.has(e.data.callId)) v.push(`callId ${e.data.callId} reused`);
      if (!open.get(step)) v.push(`tool_executing ${e.data.callId} outside its step ${step}`);
      calls.set(e.data.callId, { state: 'open', step });
    }
    if (e.type === 'tool_progress' || e.type === 'tool_completed') {
      const call = calls.get(e.data.callId);
      if (call?.state !== 'open') v.push(`${e.type} ${e.data.callId} without tool_executing`);
      else if (call.step !== step) v.push(`${e.type} ${e.data.callId} from step ${step}, not ${call.step}`);
      if (call && e.type === 'tool_completed') call.state = 'closed';
    }
  }
  // Every tool call is closed when the run completes or is cancelled (a cancel closes them with ok: false).
  if (last.type === 'orchestration_completed' || last.type === 'run_cancelled')
    for (const [callId, call] of calls) if (call.state !== 'closed') v.push(`tool call ${callId} never completed`);
  if (last.type === 'orchestration_completed') {
    for (const [step, n] of open) if (n !== 0) v.push(`step ${step} started ${n} more times than completed`);
    const messages = events.filter((e) => e.type === 'message');
    if (messages.length !== 1) v.push(`${messages.length} message events in a completed run`);
    if (opts.stream && messages[0]?.type === 'message') {
      const deltas = events.flatMap((e) => (e.type === 'message_delta' ? [e.data.delta] : []));
      if (deltas.length === 0) v.push('no message_delta with stream: true');
      if (deltas.join('') !== messages[0].data.content) v.push('message_delta events do not add up to the message');
    }
    if (!opts.stream && events.some((e) => e.type === 'message_delta')) v.push('message_delta without stream');
  }
  return v;
}
