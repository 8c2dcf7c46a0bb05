import { type DataTable, ErrorCode, HeraldError, type Passage } from '@herald/contracts';
import { DATA_ROW_LIMIT, DATA_TOOLS } from '../built-in/data.agent';
import { KNOWLEDGE_SEARCH_LIMIT, KNOWLEDGE_SEARCH_TOOL, searchTrace } from '../built-in/knowledge.agent';
import { plainPassage, type RankedPassage } from '../knowledge/feedback-ranking';
import { describeDemoSchema, DEMO_TABLES } from '../data/demo-schema';
import { checkSql } from '../data/sql-guard';
import type { AgentResources } from '../sdk/agent-context';
import type { AgentTool, AnyAgentTool } from '../sdk/agent-tool';

/** Rows of a query result the model reads (the event and the answer's table are bounded on their own). */
export const MODEL_RESULT_ROWS = 50;

export interface BuiltInToolsOptions {
  /** Called with the passages each knowledge_search found (the answer cites them as sources). */
  onPassages?: (passages: Passage[]) => void;
  /** Called with each table sql_query produced. */
  onTable?: (table: DataTable) => void;
}

/**
 * The built-in tools a model may pick in a tool loop: `knowledge_search` over the knowledge
 * base, and, where the demo dataset is configured, `schema_lookup` and `sql_query` (the data
 * agent's guard: checkSql, then EXPLAIN, then the read-only run with its row and size caps).
 * All read-only: none asks for approval.
 */
export function builtInTools(resources: AgentResources, opts: BuiltInToolsOptions = {}): AnyAgentTool[] {
  const knowledgeSearch: AgentTool<{ query?: unknown; limit?: unknown }, RankedPassage[]> = {
    name: KNOWLEDGE_SEARCH_TOOL,
    description:
      'Full-text search of the knowledge base (Herald, its protocol, NATS, JetStream, Socket.IO, operations). ' +
      'Words are ANDed; `or` between words ORs them; quotes make a phrase. Returns the best passages with their scores.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'What to look for, in a few words.' },
        limit: { type: 'integer', minimum: 1, maximum: 10, description: `Passages at most (default ${KNOWLEDGE_SEARCH_LIMIT}).` },
      },
      required: ['query'],
    },
    async run(input, call) {
      const query = typeof input?.query === 'string' ? input.query.trim() : '';
      if (!query) throw new HeraldError(ErrorCode.INVALID_INPUT, 'knowledge_search needs a query.');
      const limit = Number.isInteger(input.limit) ? Math.min(10, Math.max(1, input.limit as number)) : KNOWLEDGE_SEARCH_LIMIT;
      const passages = await resources.knowledgeBase.search(query, limit, call.signal);
      opts.onPassages?.(passages.map(plainPassage));
      return passages;
    },
    output: (passages) => ({
      count: passages.length,
      results: passages.map(({ id, title, score }) => ({ id, title, score: round(score) })),
    }),
    forModel: (passages) => passages.map(({ id, title, content, score }) => ({ id, title, content, score: round(score) })),
    trace: (passages) => ({ full: searchTrace(passages) }),
  };
  const tools: AnyAgentTool[] = [knowledgeSearch];
  const warehouse = resources.dataWarehouse;
  if (!warehouse) return tools;

  const schemaLookup: AgentTool<unknown, string> = {
    name: DATA_TOOLS.schema,
    description: 'The tables and columns of the demo sales dataset (customers, products, orders), for writing sql_query.',
    inputSchema: { type: 'object', properties: {} },
    run: async () => describeDemoSchema(),
    output: () => ({ tables: Object.keys(DEMO_TABLES).map((t) => `demo.${t}`) }),
  };
  const sqlQuery: AgentTool<{ sql?: unknown }, DataTable> = {
    name: DATA_TOOLS.query,
    description:
      'Runs one read-only PostgreSQL SELECT over the demo dataset (schema-qualified tables: demo.customers, demo.products, demo.orders). ' +
      `No comments or semicolons. At most ${DATA_ROW_LIMIT} rows; a refused query says why.`,
    inputSchema: { type: 'object', properties: { sql: { type: 'string', description: 'One SELECT statement.' } }, required: ['sql'] },
    async run(input, call) {
      const sql = typeof input?.sql === 'string' ? input.sql : '';
      const verdict = await checkSql(sql);
      if (!verdict.ok) throw new HeraldError(ErrorCode.INVALID_INPUT, verdict.error!);
      await warehouse.explain(verdict.sql, call.signal);
      const table = await warehouse.query(verdict.sql, DATA_ROW_LIMIT, call.signal);
      opts.onTable?.(table);
      return table;
    },
    output: (t) => ({ columns: t.columns, rowCount: t.rowCount, truncated: t.truncated }),
    forModel: (t) => ({
      columns: t.columns,
      rows: t.rows.slice(0, MODEL_RESULT_ROWS),
      rowCount: t.rowCount,
      truncated: t.truncated || t.rows.length > MODEL_RESULT_ROWS,
    }),
    trace: (t) => ({ full: { sql: t.sql, rowCount: t.rowCount } }),
  };
  return [...tools, schemaLookup, sqlQuery];
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
