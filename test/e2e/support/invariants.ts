import type { AgentEvent } from '@herald/contracts';

const TERMINAL = new Set(['orchestration_completed', 'run_cancelled', 'error']);

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

  const open = new Map<string, number>();
  const calls = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'agent_started') open.set(e.data.agent, (open.get(e.data.agent) ?? 0) + 1);
    if (e.type === 'agent_completed') {
      const n = open.get(e.data.agent) ?? 0;
      if (n === 0) v.push(`agent_completed for ${e.data.agent} without agent_started`);
      open.set(e.data.agent, n - 1);
    }
    if (e.type === 'tool_executing') {
      if (calls.has(e.data.callId)) v.push(`callId ${e.data.callId} reused`);
      calls.set(e.data.callId, 'open');
    }
    if (e.type === 'tool_completed') {
      if (calls.get(e.data.callId) !== 'open') v.push(`tool_completed ${e.data.callId} without tool_executing`);
      calls.set(e.data.callId, 'closed');
    }
  }
  if (last.type === 'orchestration_completed') {
    for (const [agent, n] of open) if (n !== 0) v.push(`agent ${agent} started ${n} more times than completed`);
    for (const [callId, state] of calls) if (state !== 'closed') v.push(`tool call ${callId} never completed`);
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
