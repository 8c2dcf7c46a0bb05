import { subjects } from '@herald/contracts';
import type { Redis } from '@herald/messaging';
import { RunCancellations, StepCancelled } from './run-cancellations.service';
import { strictMock } from '@herald/test-support/strict-mock';

function setup(flags: string[] = []) {
  const s = subjects('tunit');
  const redis = strictMock<Redis>({ exists: async (key: string) => (flags.includes(key) ? 1 : 0) }, 'redis');
  return { s, cancellations: new RunCancellations(redis, s) };
}

describe('RunCancellations', () => {
  it('aborts the tracked steps of the cancelled run only', () => {
    const { cancellations } = setup();
    const a = cancellations.track('run-a');
    const b = cancellations.track('run-b');
    expect(cancellations.cancel('run-a', 'cancelled by the user')).toBe(1);
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBeInstanceOf(StepCancelled);
    expect((a.signal.reason as StepCancelled).reason).toBe('cancelled by the user');
    expect(b.signal.aborted).toBe(false);
    expect(cancellations.cancel('run-a', 'again')).toBe(0);
  });

  it('forgets released steps', () => {
    const { cancellations } = setup();
    const a = cancellations.track('run-a');
    a.release();
    expect(cancellations.cancel('run-a', 'late')).toBe(0);
    expect(a.signal.aborted).toBe(false);
    expect(cancellations.activeRuns).toBe(0);
  });

  it('follows a linked signal (BullMQ stopping the job)', () => {
    const { cancellations } = setup();
    const bull = new AbortController();
    const a = cancellations.track('run-a', bull.signal);
    bull.abort();
    expect(a.signal.aborted).toBe(true);
  });

  it('reads the cancel flag from Redis', async () => {
    const { s, cancellations } = setup([subjects('tunit').keys.runCancelled('run-x')]);
    await expect(cancellations.isCancelled('run-x')).resolves.toBe(true);
    await expect(cancellations.isCancelled('run-y')).resolves.toBe(false);
    expect(s.keys.runCancelled('run-x')).toBe('tunit:run:run-x:cancelled');
  });
});
