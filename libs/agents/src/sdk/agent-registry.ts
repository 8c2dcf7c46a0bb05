import type { AgentDefinition, AgentOutput } from './agent-definition';

export type AnyAgentDefinition = AgentDefinition<unknown, AgentOutput>;

/** The agents a worker can run, by name (the BullMQ job name). */
export class AgentRegistry {
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
}
