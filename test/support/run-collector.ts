import type { AgentEvent } from '@herald/contracts';
import type { HeraldClient } from '@herald/client';
import { waitFor } from './polling';

const TERMINAL = ['orchestration_completed', 'run_cancelled', 'error'];

/** Collects a client's events; waits for a run's terminal event or for an event of a type. */
export function collectRuns(client: HeraldClient) {
  const events: AgentEvent[] = [];
  client.onEvent((e) => events.push(e));
  const of = (runId: string) => events.filter((e) => e.runId === runId);
  const until = (runId: string, done: (run: AgentEvent[]) => boolean, timeoutMs: number) =>
    waitFor(
      () => done(of(runId)) && of(runId),
      () => `run ${runId}; saw ${typesOf(of(runId)).join(',')}`,
      timeoutMs,
    );
  return {
    events,
    of,
    until: (runId: string, timeoutMs = 45_000) => until(runId, (run) => run.some((e) => TERMINAL.includes(e.type)), timeoutMs),
    untilType: async <T extends AgentEvent['type']>(runId: string, type: T, timeoutMs = 45_000) => {
      const run = await until(runId, (r) => r.some((e) => e.type === type), timeoutMs);
      return run.find((e): e is Extract<AgentEvent, { type: T }> => e.type === type)!;
    },
  };
}

export const typesOf = (events: AgentEvent[]) => events.map((e) => e.type);
