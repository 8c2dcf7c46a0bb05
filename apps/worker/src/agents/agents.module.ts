import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  type AgentResources,
  AgentRegistry,
  type AnyAgentDefinition,
  builtInAgents,
  createModelProvider,
  DATA_STATEMENT_TIMEOUT_MS,
  defineAgent,
  McpServers,
  PgDataWarehouse,
  PgKnowledgeBase,
  reportingAgent,
} from '@herald/agents';
import type { Config } from '@herald/config';
import { CONFIG, LOGGER } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { Pool } from 'pg';
import { AGENT_REGISTRY, AGENT_RESOURCES, DATA_POOL, KB_POOL, MCP_TOOLS, MODEL_PROVIDER } from './agents.tokens';
import { createDataPool } from './data-pool';
import { createKnowledgePool } from './knowledge-pool';

/**
 * The MCP servers the models may call: only with a model (the local engine picks no tools), so
 * a worker without LLM_PROVIDER starts none of them.
 */
function createMcpServers(config: Config, logger: Logger): McpServers {
  const servers = config.MCP_SERVERS ?? [];
  if (servers.length > 0 && !config.LLM_PROVIDER) {
    logger.warn({ servers: servers.map((s) => s.name) }, 'MCP_SERVERS is set but no model is (LLM_PROVIDER): the MCP servers are not used');
    return new McpServers([], logger);
  }
  return new McpServers(servers, logger.child({ component: 'mcp' }));
}

/**
 * The agents this worker runs. With MCP servers whose tools may need the user's approval, the
 * reporting step (the model's tool loop) may wait for the user: its step gets
 * HUMAN_RESPONSE_TIMEOUT_MS on top of RUN_STEP_TIMEOUT_MS.
 */
function workerAgents(config: Config): AnyAgentDefinition[] {
  const mayAsk = !!config.LLM_PROVIDER && (config.MCP_SERVERS ?? []).some((s) => s.approval !== 'never');
  return builtInAgents.map((a) => (mayAsk && a.name === reportingAgent.name ? defineAgent({ ...a, interactive: true }) : a));
}

/** What the worker can run: the built-in agents, the configured model, the agents' data sources and tools. */
@Module({
  providers: [
    { provide: AGENT_REGISTRY, inject: [CONFIG], useFactory: (config: Config) => new AgentRegistry(workerAgents(config)) },
    { provide: MODEL_PROVIDER, inject: [CONFIG], useFactory: (config: Config) => createModelProvider(config) },
    { provide: KB_POOL, inject: [CONFIG, LOGGER], useFactory: createKnowledgePool },
    { provide: DATA_POOL, inject: [CONFIG, LOGGER], useFactory: createDataPool },
    { provide: MCP_TOOLS, inject: [CONFIG, LOGGER], useFactory: createMcpServers },
    {
      provide: AGENT_RESOURCES,
      inject: [KB_POOL, DATA_POOL, AGENT_REGISTRY, MCP_TOOLS, LOGGER, CONFIG],
      useFactory: (kb: Pool, data: Pool, agents: AgentRegistry, tools: McpServers, logger: Logger, config: Config): AgentResources => ({
        // Users' ratings re-rank the passages (README "Feedback").
        knowledgeBase: new PgKnowledgeBase(kb, {
          feedback: { maxBoost: config.FEEDBACK_RANKING_MAX_BOOST, priorVotes: config.FEEDBACK_RANKING_PRIOR_VOTES },
        }),
        // Database errors are logged here; the user and the model only get a fixed message.
        dataWarehouse: new PgDataWarehouse(data, DATA_STATEMENT_TIMEOUT_MS, logger),
        agents,
        tools,
      }),
    },
  ],
  exports: [AGENT_REGISTRY, MODEL_PROVIDER, AGENT_RESOURCES, MCP_TOOLS],
})
export class AgentsModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(KB_POOL) private readonly pool: Pool,
    @Inject(DATA_POOL) private readonly dataPool: Pool,
    @Inject(MCP_TOOLS) private readonly mcp: McpServers,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Before the BullMQ worker takes jobs (onApplicationBootstrap): the MCP servers' tools are listed, or being retried. */
  async onModuleInit() {
    await this.mcp.start();
  }

  /** After the BullMQ worker has finished its active jobs (onModuleDestroy). */
  async onApplicationShutdown() {
    await this.mcp.close().catch((err) => this.logger.warn({ err }, 'closing the MCP servers failed'));
    await this.pool.end().catch((err) => this.logger.warn({ err }, 'closing the knowledge base pool failed'));
    await this.dataPool.end().catch((err) => this.logger.warn({ err }, 'closing the data pool failed'));
  }
}
