import type { Intent } from '@herald/contracts';
import type { AgentDefinition, AgentOutput } from './agent-definition';

export type AnyAgentDefinition = AgentDefinition<unknown, AgentOutput>;

/** A step of a run's plan: the agent, and whether it may wait for the user. */
export interface PlannedStep {
  agent: string;
  interactive: boolean;
}

/** The steps of a plan that run at once: the agents of one plan order. */
export type PlannedStage = PlannedStep[];

/** What triage plans from: the stages of steps that serve an intent. */
export interface AgentPlanner {
  planFor(intent: Intent): PlannedStage[];
}

/**
 * The agents a worker can run, by name (the BullMQ job name), and the plans they make up:
 * each agent says which intents it serves and where (AgentDefinition.plan).
 */
export class AgentRegistry implements AgentPlanner {
  private readonly agents = new Map<string, AnyAgentDefinition>();

  constructor(agents: readonly AnyAgentDefinition[] = []) {
    for (const agent of agents) this.register(agent);
  }

  register(agent: AnyAgentDefinition): this {
    if (this.agents.has(agent.name)) throw new Error(`agent "${agent.name}" is already registered`);
    this.agents.set(agent.name, agent);
    return this;
  }

  get(name: string): AnyAgentDefinition | undefined {
    return this.agents.get(name);
  }

  names(): string[] {
    return [...this.agents.keys()];
  }

  /**
   * The agents that serve `intent`, in stages by their plan order: the agents of one order
   * make up one stage, whose steps run in parallel (within it, registration order).
   */
  planFor(intent: Intent): PlannedStage[] {
    const stages = new Map<number, PlannedStage>();
    const serving = [...this.agents.values()].filter((a) => a.plan?.intents.includes(intent));
    for (const a of serving.sort((x, y) => x.plan!.order - y.plan!.order)) {
      const order = a.plan!.order;
      if (!stages.has(order)) stages.set(order, []);
      stages.get(order)!.push({ agent: a.name, interactive: a.interactive === true });
    }
    return [...stages.values()];
  }
}
