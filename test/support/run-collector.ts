import type { AgentEvent } from '@herald/contracts';
import type { HeraldClient } from '@herald/client';
import { sleep } from './cluster';

const TERMINAL = ['orchestration_completed', 'run_cancelled', 'error'];

/** Collects a client's events; waits for a run's terminal event or for an event of a type. */
export function collectRuns(client: HeraldClient) {
  const events: AgentEvent[] = [];
  client.onEvent((e) => events.push(e));
  const of = (runId: string) => events.filter((e) => e.runId === runId);
  async function waitFor(runId: string, done: (run: AgentEvent[]) => boolean, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (done(of(runId))) return of(runId);
      await sleep(20);
    }
    throw new Error(
      `run ${runId}: waited in vain; saw ${of(runId)
        .map((e) => e.type)
        .join(',')}`,
    );
  }
  return {
    events,
    of,
    until: (runId: string, timeoutMs = 45_000) => waitFor(runId, (run) => run.some((e) => TERMINAL.includes(e.type)), timeoutMs),
    untilType: async <T extends AgentEvent['type']>(runId: string, type: T, timeoutMs = 45_000) => {
      const run = await waitFor(runId, (r) => r.some((e) => e.type === type), timeoutMs);
      return run.find((e): e is Extract<AgentEvent, { type: T }> => e.type === type)!;
    },
  };
}

export const typesOf = (events: AgentEvent[]) => events.map((e) => e.type);
