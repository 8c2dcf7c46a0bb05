import { Module } from '@nestjs/common';
import { type AgentResources, AgentRegistry, builtInAgents, createModelProvider, PgKnowledgeBase } from '@herald/agents';
import type { Config } from '@herald/contracts';
import type { Pool } from 'pg';
import { CONFIG, KB_POOL } from '../infrastructure/tokens';
import { AGENT_REGISTRY, AGENT_RESOURCES, MODEL_PROVIDER } from './agents.tokens';

/** What the worker can run: the built-in agents, the configured model, the agents' data sources. */
@Module({
  providers: [
    { provide: AGENT_REGISTRY, useFactory: () => new AgentRegistry(builtInAgents) },
    { provide: MODEL_PROVIDER, inject: [CONFIG], useFactory: (config: Config) => createModelProvider(config) },
    {
      provide: AGENT_RESOURCES,
      inject: [KB_POOL],
      useFactory: (pool: Pool): AgentResources => ({ knowledgeBase: new PgKnowledgeBase(pool) }),
    },
  ],
  exports: [AGENT_REGISTRY, MODEL_PROVIDER, AGENT_RESOURCES],
})
export class AgentsModule {}
