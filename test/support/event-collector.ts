import type { AgentEvent } from '@herald/contracts';
import type { HeraldClient } from '@herald/client';
import { waitFor } from './polling';

const TERMINAL = new Set(['orchestration_completed', 'run_cancelled', 'error']);

export function isTerminal(event: AgentEvent): boolean {
  return TERMINAL.has(event.type);
}

/** The events a client delivers, in the order it delivers them, with helpers to wait on runs. */
export class EventCollector {
  readonly events: AgentEvent[] = [];

  constructor(client: HeraldClient) {
    client.onEvent((e) => this.events.push(e));
  }

  of(runId: string): AgentEvent[] {
    return this.events.filter((e) => e.runId === runId);
  }

  ids(): string[] {
    return this.events.map((e) => e.id);
  }

  ended(runId: string): boolean {
    return this.of(runId).some(isTerminal);
  }

  /** The run's events once its terminal event has arrived. */
  async until(runId: string, timeoutMs = 30_000): Promise<AgentEvent[]> {
    await waitFor(
      () => this.ended(runId),
      () => `run ${runId} did not end; saw ${this.of(runId).map((e) => e.type)}`,
      timeoutMs,
    );
    return this.of(runId);
  }

  /** Resolves once an event of the run matches. */
  async untilSeen(runId: string, match: (e: AgentEvent) => boolean, timeoutMs = 30_000): Promise<AgentEvent> {
    await waitFor(
      () => this.of(runId).some(match),
      () => `no matching event in run ${runId}; saw ${this.of(runId).map((e) => e.type)}`,
      timeoutMs,
    );
    return this.of(runId).find(match)!;
  }
}
