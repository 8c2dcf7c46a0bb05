import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import {
  type AgentResources,
  AgentRegistry,
  builtInAgents,
  createModelProvider,
  DATA_STATEMENT_TIMEOUT_MS,
  PgDataWarehouse,
  PgKnowledgeBase,
} from '@herald/agents';
import type { Config } from '@herald/contracts';
import { CONFIG, LOGGER, type Logger } from '@herald/messaging';
import type { Pool } from 'pg';
import { AGENT_REGISTRY, AGENT_RESOURCES, DATA_POOL, KB_POOL, MODEL_PROVIDER } from './agents.tokens';
import { createDataPool } from './data-pool';
import { createKnowledgePool } from './knowledge-pool';

/** What the worker can run: the built-in agents, the configured model, the agents' data sources. */
@Module({
  providers: [
    { provide: AGENT_REGISTRY, useFactory: () => new AgentRegistry(builtInAgents) },
    { provide: MODEL_PROVIDER, inject: [CONFIG], useFactory: (config: Config) => createModelProvider(config) },
    { provide: KB_POOL, inject: [CONFIG, LOGGER], useFactory: createKnowledgePool },
    { provide: DATA_POOL, inject: [CONFIG, LOGGER], useFactory: createDataPool },
    {
      provide: AGENT_RESOURCES,
      inject: [KB_POOL, DATA_POOL, AGENT_REGISTRY, LOGGER],
      useFactory: (kb: Pool, data: Pool, agents: AgentRegistry, logger: Logger): AgentResources => ({
        knowledgeBase: new PgKnowledgeBase(kb),
        // Database errors are logged here; the user and the model only get a fixed message.
        dataWarehouse: new PgDataWarehouse(data, DATA_STATEMENT_TIMEOUT_MS, logger),
        agents,
      }),
    },
  ],
  exports: [AGENT_REGISTRY, MODEL_PROVIDER, AGENT_RESOURCES],
})
export class AgentsModule implements OnApplicationShutdown {
  constructor(
    @Inject(KB_POOL) private readonly pool: Pool,
    @Inject(DATA_POOL) private readonly dataPool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** After the BullMQ worker has finished its active jobs (onModuleDestroy). */
  async onApplicationShutdown() {
    await this.pool.end().catch((err) => this.logger.warn({ err }, 'closing the knowledge base pool failed'));
    await this.dataPool.end().catch((err) => this.logger.warn({ err }, 'closing the data pool failed'));
  }
}
