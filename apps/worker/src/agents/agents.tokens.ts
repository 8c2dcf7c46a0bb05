export const AGENT_REGISTRY = Symbol('AGENT_REGISTRY');
export const MODEL_PROVIDER = Symbol('MODEL_PROVIDER');
export const AGENT_RESOURCES = Symbol('AGENT_RESOURCES');
/** The read-only Postgres pool the agents' tools use (the knowledge base). */
export const KB_POOL = Symbol('KB_POOL');
/** The data agent's pool, logged in as the read-only demo role. */
export const DATA_POOL = Symbol('DATA_POOL');
/** The MCP servers' tools (McpServers, a ToolSource). */
export const MCP_TOOLS = Symbol('MCP_TOOLS');
