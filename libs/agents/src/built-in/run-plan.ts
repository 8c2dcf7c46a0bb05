import { AGENT } from '@herald/contracts';
import type { AgentOutput } from '../sdk/agent-definition';
import { builtInAgents } from './built-in-agents';

/**
 * What the supervisor needs to know of the agents to drive a run: how to read the plan triage
 * made, how much of the run's progress each step takes, and how a step's output is handed on
 * to the steps after it. The agents' business, so it lives with them.
 */

/** The weight of a planned step whose agent sets none (AgentPlacement.weight). */
export const DEFAULT_STEP_WEIGHT = 0.35;
/** At most this many steps after triage (reporting included). */
const MAX_PLANNED_STEPS = 6;
const AGENT_NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;

const STEP_WEIGHTS: ReadonlyMap<string, number> = new Map(
  builtInAgents.flatMap((a) => (a.plan?.weight === undefined ? [] : [[a.name, a.plan.weight] as const])),
);

/**
 * What a run's steps hand on to each other: each step's input is all of it. The knowledge
 * step's passages go under `passages`, any other step's output under its agent's name
 * (`data`, or a newly registered agent's).
 */
export interface Findings {
  question: string;
  intent: string;
  passages: unknown[];
  [agent: string]: unknown;
}

/** The plan of a run, from triage's output. */
export interface RunPlan {
  intent: string;
  /** The stages after triage, each a list of agents whose steps run at once; reporting alone and last. */
  stages: string[][];
  /** The agents that may wait for the user (their steps get HUMAN_RESPONSE_TIMEOUT_MS more). */
  interactive: ReadonlySet<string>;
}

export function initialFindings(question: string): Findings {
  return { question, intent: 'question', passages: [] };
}

/**
 * Reads triage's output (a job result: checked, never trusted): the intent (default
 * `question`), the stages (planOf) and the interactive agents.
 */
export function runPlanOf(triage: AgentOutput): RunPlan {
  return {
    intent: typeof triage.intent === 'string' ? triage.intent : 'question',
    stages: planOf(triage.plan),
    interactive: new Set(Array.isArray(triage.interactive) ? triage.interactive.filter((a) => typeof a === 'string') : []),
  };
}

/**
 * The stages triage planned, sanitised: agent names only (a name is a stage of one step, a
 * list of names a parallel stage), each agent once, never triage, at most MAX_PLANNED_STEPS
 * steps, and reporting alone and last.
 */
export function planOf(plan: unknown): string[][] {
  const seen = new Set<string>([AGENT.triage, AGENT.reporting]);
  const stages: string[][] = [];
  let steps = 0;
  for (const entry of Array.isArray(plan) ? plan : []) {
    const stage: string[] = [];
    for (const name of Array.isArray(entry) ? entry : [entry]) {
      if (steps >= MAX_PLANNED_STEPS - 1) break;
      if (typeof name !== 'string' || !AGENT_NAME_RE.test(name) || seen.has(name)) continue;
      seen.add(name);
      stage.push(name);
      steps++;
    }
    if (stage.length > 0) stages.push(stage);
  }
  return [...stages, [AGENT.reporting]];
}

/**
 * Splits `from..to` between the planned stages by their agents' weights (a parallel stage
 * weighs as its heaviest step: they run at once); each gets `[start, end]`.
 */
export function progressShares(stages: readonly (readonly string[])[], from: number, to: number): Array<[number, number]> {
  const weights = stages.map((stage) => Math.max(...stage.map((a) => STEP_WEIGHTS.get(a) ?? DEFAULT_STEP_WEIGHT)));
  const total = weights.reduce((a, b) => a + b, 0);
  let at = from;
  return weights.map((w, i) => {
    const end = i === weights.length - 1 ? to : Math.round((at + ((to - from) * w) / total) * 1000) / 1000;
    const share: [number, number] = [at, end];
    at = end;
    return share;
  });
}

/** Adds a finished step's output to the findings: the knowledge step's passages, any other's under its name (once). */
export function handOn(findings: Findings, agent: string, output: AgentOutput): void {
  if (agent === AGENT.knowledge) findings.passages = Array.isArray(output.passages) ? output.passages : [];
  else if (!(agent in findings)) findings[agent] = output;
}
