import type { EventType } from '@herald/contracts';
import { applyRunEvents, nextRunStatus, type RunEvent, type RunProgress } from './run-progress';

const queued: RunProgress = { status: 'queued', progress: 0, lastEventId: null, startedAt: null, endedAt: null };
let at = 0;
const ev = (id: number, type: EventType, progress = 0.1): RunEvent => ({
  id,
  type,
  progress,
  at: new Date(Date.UTC(2026, 10, 22, 7, 0, at++)).toISOString(),
});

describe('nextRunStatus', () => {
  it.each<[EventType, string]>([
    ['orchestration_started', 'running'],
    ['clarification_requested', 'waiting'],
    ['approval_requested', 'waiting'],
    ['orchestration_completed', 'completed'],
    ['run_cancelled', 'cancelled'],
    ['error', 'failed'],
  ])('%s moves a running run to %s', (type, status) => {
    expect(nextRunStatus('running', type)).toBe(status);
  });

  it('resumes a waiting run on any ordinary event, and keeps a queued run queued on run_queued', () => {
    expect(nextRunStatus('waiting', 'agent_thinking')).toBe('running');
    expect(nextRunStatus('waiting', 'status')).toBe('running');
    expect(nextRunStatus('queued', 'run_queued')).toBe('queued');
  });

  it('never moves a terminal status back', () => {
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      expect(nextRunStatus(status, 'orchestration_started')).toBe(status);
      expect(nextRunStatus(status, 'error')).toBe(status);
    }
  });
});

describe('applyRunEvents', () => {
  it('folds a whole run: running, waiting, running again, completed with times and the max progress', () => {
    const events = [
      ev(10, 'orchestration_started', 0.05),
      ev(11, 'clarification_requested', 0.3),
      ev(12, 'agent_thinking', 0.4),
      ev(13, 'message', 0.95),
      ev(14, 'orchestration_completed', 1),
    ];
    const result = applyRunEvents(queued, events);
    expect(result).toEqual({
      status: 'completed',
      progress: 1,
      lastEventId: '14',
      startedAt: events[0].at,
      endedAt: events[4].at,
    });
  });

  it('applies events in id order whatever order they came in', () => {
    const result = applyRunEvents(queued, [ev(3, 'agent_thinking', 0.5), ev(1, 'orchestration_started'), ev(2, 'approval_requested', 0.4)]);
    expect(result.status).toBe('running');
    expect(result.lastEventId).toBe('3');
  });

  it('ignores the status of an old redelivered event, but still ends the run on a late terminal event', () => {
    const running: RunProgress = { ...queued, status: 'running', progress: 0.6, lastEventId: '20', startedAt: 'x' };
    expect(applyRunEvents(running, [ev(15, 'clarification_requested', 0.3)])).toEqual(running);
    const ended = applyRunEvents(running, [ev(19, 'run_cancelled', 1)]);
    expect(ended.status).toBe('cancelled');
    expect(ended.lastEventId).toBe('20');
    expect(ended.endedAt).not.toBeNull();
  });

  it('changes nothing on a redelivered batch already applied', () => {
    const events = [ev(5, 'orchestration_started', 0.1), ev(6, 'error', 1)];
    const once = applyRunEvents(queued, events);
    expect(once.status).toBe('failed');
    expect(applyRunEvents(once, events)).toEqual(once);
  });

  it('keeps ids beyond 2^53 exact', () => {
    const big: RunProgress = { ...queued, lastEventId: '9007199254740993' };
    expect(applyRunEvents(big, [ev(7, 'status')]).lastEventId).toBe('9007199254740993');
  });
});
