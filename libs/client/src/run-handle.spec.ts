import { type AgentEvent, TERMINAL_EVENT_TYPES } from '@herald/contracts';
import { RunEndedError, RunHandle, TERMINAL_TYPES } from './run-handle';

const ack = { runId: 'run-1', conversationId: 'conv-1', messageId: 'm-1', userMessageId: 'u-1' };
let seq = 0;
const ev = (type: AgentEvent['type'], data: object, runId = 'run-1') =>
  ({ id: String(++seq), type, runId, conversationId: 'conv-1', ts: new Date(0).toISOString(), progress: 0.5, data }) as AgentEvent;

describe('RunHandle', () => {
  it('agrees with the contracts on which events end a run', () => {
    expect([...TERMINAL_TYPES].sort()).toEqual([...TERMINAL_EVENT_TYPES].sort());
  });

  it('iterates the events of its run up to the terminal one and resolves the answer', async () => {
    const run = new RunHandle(ack);
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const e of run) seen.push(e.type);
    })();
    run.push(ev('orchestration_started', {}));
    run.push(ev('status', { step: 'x', message: 'y' }, 'other-run'));
    run.push(ev('message', { messageId: 'm-1', role: 'assistant', content: 'The answer', metadata: { intent: 'question', sources: [] } }));
    run.push(ev('orchestration_completed', { durationMs: 5 }));
    run.push(ev('status', { step: 'late', message: 'ignored' }));
    await iterating;
    expect(seen).toEqual(['orchestration_started', 'message', 'orchestration_completed']);
    await expect(run.answer).resolves.toBe('The answer');
    expect(run.finished).toBe(true);
  });

  it('rejects the answer with the reason when the run is cancelled or fails', async () => {
    const cancelled = new RunHandle(ack);
    cancelled.push(ev('run_cancelled', { reason: 'user' }));
    await expect(cancelled.answer).rejects.toThrow(RunEndedError);
    await expect(cancelled.answer).rejects.toThrow('Cancelled: user');
    const failed = new RunHandle(ack);
    failed.push(ev('error', { code: 'TIMEOUT', message: 'It took too long.', retryable: true }));
    await expect(failed.answer).rejects.toThrow('It took too long.');
    expect((await failed.done()).map((e) => e.type)).toEqual(['error']);
  });
});
