import type { AgentEvent } from '@herald/contracts';
import { pendingRequest } from './pending-request';

const event = (id: number, type: string, data: Record<string, unknown>) =>
  ({ id: String(id), type, runId: 'r', conversationId: 'c', ts: '2026-01-01T00:00:00.000Z', progress: 0.5, data }) as AgentEvent;

describe('pendingRequest', () => {
  const asked = event(2, 'clarification_requested', { requestId: 'req_1_1', question: 'Which?' });

  it('is the last request with nothing after it but events of the waiting run', () => {
    expect(pendingRequest([event(1, 'orchestration_started', {}), asked])?.data.requestId).toBe('req_1_1');
    expect(pendingRequest([event(1, 'orchestration_started', {}), asked, event(3, 'status', { step: 'thinking', message: '…' })])).toBe(
      asked,
    );
  });

  it('is none once the run went on after the answer, or ended, or never asked', () => {
    expect(pendingRequest([asked, event(3, 'status', { step: 'resuming', message: 'Got your answer' })])).toBeUndefined();
    expect(pendingRequest([asked, event(3, 'run_cancelled', { reason: 'cancelled_by_user' })])).toBeUndefined();
    expect(pendingRequest([event(1, 'orchestration_started', {})])).toBeUndefined();
  });

  it('is the second request when the run asked again after the first answer', () => {
    const approval = event(4, 'approval_requested', { requestId: 'req_1_2', action: 'Export', details: {} });
    expect(pendingRequest([asked, event(3, 'status', { step: 'resuming', message: '' }), approval])).toBe(approval);
  });
});
