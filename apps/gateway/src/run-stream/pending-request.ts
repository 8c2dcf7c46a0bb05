import type { AgentEvent } from '@herald/contracts';

export type RequestEvent = Extract<AgentEvent, { type: 'clarification_requested' | 'approval_requested' }>;

/**
 * The clarification or approval a run waits for, from its events so far: its last request
 * with no `status` `resuming` (the run going on after an answer) after it, unless the run has
 * ended. Exact where the stored run status trails the event stream.
 */
export function pendingRequest(events: readonly AgentEvent[]): RequestEvent | undefined {
  let waiting: RequestEvent | undefined;
  for (const event of events) {
    if (event.type === 'clarification_requested' || event.type === 'approval_requested') waiting = event;
    else if (event.type === 'status' && event.data.step === 'resuming') waiting = undefined;
    else if (event.type === 'orchestration_completed' || event.type === 'run_cancelled' || event.type === 'error') return undefined;
  }
  return waiting;
}
