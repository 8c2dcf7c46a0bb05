import type { Intent } from '@herald/contracts';
import type { z } from 'zod';
import type { AgentContext } from './agent-context';

export type AgentOutput = Record<string, unknown>;

export interface AgentDefinition<I = unknown, O extends AgentOutput = AgentOutput> {
  /** The BullMQ job name; one of AGENT for the built-in agents. Never rename a live one. */
  readonly name: string;
  /** Shown on `agent_started`. */
  readonly description: string;
  /** Validates the job's `input` before anything is emitted; invalid input fails the job for good. */
  readonly input?: z.ZodType<I, unknown>;
  /**
   * When the supervisor runs this agent: for each of `intents`, after triage, in `order`
   * with the other planned agents (lower first; the built-ins: knowledge 10, data 10,
   * reporting 100, always last). Agents of the same order run in parallel, as one stage: each
   * gets what the stages before found, and the next stage gets all their outputs. Without it
   * the agent is only run when asked for by name.
   */
  readonly plan?: AgentPlacement;
  /**
   * The agent may wait for the user (`ctx.ask`, `ctx.approve`): the supervisor gives its step
   * HUMAN_RESPONSE_TIMEOUT_MS on top of RUN_STEP_TIMEOUT_MS.
   */
  readonly interactive?: boolean;
  run(ctx: AgentContext, input: I): Promise<O>;
  /** A one-line `agent_completed.summary` of the output. */
  summarize?(output: O): string | undefined;
}

export interface AgentPlacement {
  readonly intents: readonly Intent[];
  readonly order: number;
  /**
   * How much of the run's progress its step takes, relative to the other planned steps
   * (default DEFAULT_STEP_WEIGHT). The supervisor reads it for the built-in agents (runPlan).
   */
  readonly weight?: number;
}

const NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;

/** Declares an agent: `export const fooAgent = defineAgent({ name, description, input, run })`. */
export function defineAgent<I, O extends AgentOutput>(definition: AgentDefinition<I, O>): AgentDefinition<I, O> {
  if (!NAME_RE.test(definition.name)) throw new Error(`agent name must match ${NAME_RE}, got "${definition.name}"`);
  return Object.freeze({ ...definition });
}
