import { createLogger } from '@herald/observability';
import type { NatsConnection } from 'nats';
import { subjects } from '@herald/contracts';
import { RunRespondListener } from './run-respond.listener';

const listener = () => new RunRespondListener({} as NatsConnection, subjects('t'), createLogger('test', 'silent'));

describe('RunRespondListener', () => {
  it('resolves the waiting request of the run, once, with an answer of the right kind', async () => {
    const l = listener();
    const wait = l.waitFor({ runId: 'r1', requestId: 'req_1_1', kind: 'approval' }, new AbortController().signal);
    expect(l.deliver('r2', 'req_1_1', { approved: true })).toBe(false);
    expect(l.deliver('r1', 'req_1_1', 'yes')).toBe(false);
    expect(l.deliver('r1', 'req_1_1', { approved: false, comment: 'no' })).toBe(true);
    expect(l.deliver('r1', 'req_1_1', { approved: true })).toBe(false);
    await expect(wait).resolves.toEqual({ approved: false, comment: 'no' });
    expect(l.waiting).toBe(0);
  });

  it('stops waiting on abort', async () => {
    const l = listener();
    const controller = new AbortController();
    const wait = l.waitFor({ runId: 'r1', requestId: 'req_1_1', kind: 'clarification' }, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(wait).rejects.toThrow('cancelled');
    expect(l.waiting).toBe(0);
    expect(l.deliver('r1', 'req_1_1', 'late')).toBe(false);
  });
});
