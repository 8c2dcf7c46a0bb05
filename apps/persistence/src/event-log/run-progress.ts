import { isTerminal, isTerminalRunStatus, RUN_STATUS_OF_TERMINAL_EVENT, type EventType, type RunStatus } from '@herald/contracts';

/** After a wait (or before the start), any ordinary event means the run is going on. */
const resumes = (current: RunStatus): RunStatus => (current === 'waiting' || current === 'queued' ? 'running' : current);
const keeps = (current: RunStatus): RunStatus => current;

/** How each event type moves a run that has not ended. */
const TRANSITIONS: Record<EventType, (current: RunStatus) => RunStatus> = {
  run_queued: keeps,
  orchestration_started: () => 'running',
  status: resumes,
  agent_started: resumes,
  agent_thinking: resumes,
  tool_executing: resumes,
  tool_progress: resumes,
  tool_completed: resumes,
  agent_completed: resumes,
  clarification_requested: () => 'waiting',
  approval_requested: () => 'waiting',
  message_delta: resumes,
  message: resumes,
  orchestration_completed: () => RUN_STATUS_OF_TERMINAL_EVENT.orchestration_completed,
  run_cancelled: () => RUN_STATUS_OF_TERMINAL_EVENT.run_cancelled,
  error: () => RUN_STATUS_OF_TERMINAL_EVENT.error,
};

/** A run's status after one event. A terminal status never moves back. */
export function nextRunStatus(current: RunStatus, type: EventType): RunStatus {
  return isTerminalRunStatus(current) ? current : TRANSITIONS[type](current);
}

export interface RunProgress {
  status: RunStatus;
  progress: number;
  /** Highest event id applied, as a string (bigint). */
  lastEventId: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface RunEvent {
  id: number;
  type: EventType;
  progress: number;
  at: string;
}

/**
 * Folds a batch of a run's events into its row. Events may come again (redelivery) or late
 * (another instance wrote newer ones first): progress and last event id only grow; an event
 * not newer than the run's last event moves the status only if it ends the run; start and
 * end times are set once.
 */
export function applyRunEvents(run: RunProgress, events: readonly RunEvent[]): RunProgress {
  const seen = run.lastEventId === null ? -1n : BigInt(run.lastEventId);
  let { status, progress, lastEventId, startedAt, endedAt } = run;
  let last = seen;
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    const id = BigInt(event.id);
    if (id > last) last = id;
    progress = Math.max(progress, event.progress);
    if (event.type === 'orchestration_started') startedAt ??= event.at;
    if (id > seen || isTerminal(event.type)) {
      const next = nextRunStatus(status, event.type);
      if (isTerminalRunStatus(next) && !isTerminalRunStatus(status)) endedAt ??= event.at;
      status = next;
    }
  }
  if (last > seen) lastEventId = last.toString();
  return { status, progress, lastEventId, startedAt, endedAt };
}
