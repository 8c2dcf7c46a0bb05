import { AGENT, type DataInput, dataInputSchema, type DataOutput, type DataTable, ErrorCode, HeraldError } from '@herald/contracts';
import { checkSql } from '../data/sql-guard';
import { describeDemoSchema, DEMO_TABLES } from '../data/demo-schema';
import { MAX_RESULT_BYTES } from '../data/data-warehouse';
import type { AgentContext } from '../sdk/agent-context';
import { defineAgent } from '../sdk/agent-definition';
import { ApprovalRefused, ToolError } from '../sdk/errors';
import { toCsv } from './to-csv';

/** Generation → validation rounds before giving up on a question. */
export const MAX_SQL_ATTEMPTS = 3;
/** Rows a result may have (the query is cut there and says so). */
export const DATA_ROW_LIMIT = 200;
/** Below this, the agent asks before querying. */
export const MIN_SQL_CONFIDENCE = 0.5;
export const DATA_TOOLS = { schema: 'schema_lookup', validate: 'sql_validate', query: 'sql_query', export: 'export_csv' } as const;
const EXPORT_RE = /\b(?:export|csv|download|spreadsheet)\b/i;

/**
 * Answers questions about the demo sales dataset: schema retrieval → SQL generation (the
 * model; the local engine fills templates) → validation (checkSql: Postgres's parser and an
 * allowlist, then EXPLAIN; a refused query goes back to the model with the reason, up to
 * MAX_SQL_ATTEMPTS) → execution as the read-only role with a statement timeout, DATA_ROW_LIMIT
 * and MAX_RESULT_BYTES → the table. Database errors reach the model and the user only as a
 * fixed message per SQLSTATE (PgDataWarehouse logs the real one). Asks the user when
 * the question is ambiguous, and asks for approval before exporting the result.
 */
export const dataAgent = defineAgent<DataInput, DataOutput>({
  name: AGENT.data,
  description: 'Answers questions about the sales dataset with a read-only SQL query.',
  input: dataInputSchema,
  plan: { intents: ['data', 'report'], order: 10, weight: 0.35 }, // in a report, beside knowledge (same order: in parallel)
  interactive: true, // it asks when the question is ambiguous, and for approval to export

  async run(ctx, { question, intent }) {
    const warehouse = ctx.resources.dataWarehouse;
    if (!warehouse) throw new HeraldError(ErrorCode.UNAVAILABLE, 'The dataset is unavailable right now.');
    await ctx.status('retrieving', 'Looking up the tables of the dataset…');
    const schema = await ctx.tool(DATA_TOOLS.schema, { schema: 'demo' }, async () => describeDemoSchema(), {
      output: () => ({ tables: Object.keys(DEMO_TABLES).map((t) => `demo.${t}`) }),
    });
    ctx.progress(0.1);

    const found = await writeQuery(ctx, question, schema, intent !== 'report');
    if (!found.sql) return { title: found.title, notes: found.notes };
    ctx.progress(0.6);

    await ctx.status('querying', 'Running the query…');
    let table: DataTable;
    try {
      table = await ctx.tool(
        DATA_TOOLS.query,
        { sql: found.sql, rowLimit: DATA_ROW_LIMIT },
        (signal) => warehouse.query(found.sql!, DATA_ROW_LIMIT, signal),
        {
          output: (t) => ({ columns: t.columns, rowCount: t.rowCount, truncated: t.truncated }),
          trace: (t) => ({ full: { sql: t.sql, rowCount: t.rowCount } }),
        },
      );
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      await ctx.thinking(`The query failed (${err.message}); answering without figures.`);
      return { title: found.title, notes: [`The query could not run: ${err.message}`] };
    }
    ctx.progress(0.85);
    const notes = !table.truncated
      ? []
      : table.rowCount >= DATA_ROW_LIMIT
        ? [`Only the first ${DATA_ROW_LIMIT} rows are shown.`]
        : [`Only the first ${table.rowCount} rows are shown: the whole result is larger than ${MAX_RESULT_BYTES / 1024} KiB.`];
    if (!EXPORT_RE.test(question) || table.rowCount === 0) return { title: found.title, table, notes };

    const filename = `${
      found.title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || 'result'
    }.csv`;
    try {
      const content = await ctx.tool(DATA_TOOLS.export, { filename, rows: table.rowCount }, async () => toCsv(table), {
        approval: {
          action: `Export ${table.rowCount} row${table.rowCount === 1 ? '' : 's'} as ${filename}`,
          details: { filename, format: 'csv', columns: table.columns, rows: table.rowCount },
        },
        output: (csv) => ({ filename, bytes: Buffer.byteLength(csv) }),
      });
      return { title: found.title, table, notes, export: { format: 'csv', filename, content } };
    } catch (err) {
      if (!(err instanceof ApprovalRefused)) throw err;
      await ctx.thinking('You declined the export; the result stays in the answer only.');
      return { title: found.title, table, notes: [...notes, 'You declined the export, so the result is only shown here.'] };
    }
  },

  summarize: ({ table, notes }) => (table ? `${table.rowCount} row${table.rowCount === 1 ? '' : 's'}` : notes[0]),
});

interface FoundQuery {
  sql?: string;
  title: string;
  notes: string[];
}

/** Generation and validation rounds; asks the user once when the model is unsure. */
async function writeQuery(ctx: AgentContext, question: string, schema: string, mayAsk: boolean): Promise<FoundQuery> {
  const attempts: Array<{ sql: string; error: string }> = [];
  let asked = false;
  let title = 'Query';
  while (attempts.length < MAX_SQL_ATTEMPTS) {
    await ctx.status('generating', 'Writing the SQL query…');
    const generated = await ctx.model.generateSql({ question, schema, attempts, signal: ctx.signal });
    title = generated.title;
    await ctx.thinking(generated.reasoning, {
      full: { sql: generated.sql, confidence: generated.confidence, attempt: attempts.length + 1 },
    });
    const unsure = !generated.sql || generated.confidence < MIN_SQL_CONFIDENCE;
    if (unsure && mayAsk && !asked && generated.clarification) {
      asked = true;
      const answer = await ctx.ask(generated.clarification.question, generated.clarification.choices);
      question = `${question} (${answer})`;
      continue;
    }
    if (!generated.sql)
      return { title, notes: ['I could not tell which figures you are after; try naming one, like "revenue by region".'] };

    await ctx.status('validating', 'Checking the query…');
    const sql = generated.sql;
    try {
      const checked = await ctx.tool(
        DATA_TOOLS.validate,
        { sql },
        async (signal) => {
          const verdict = await checkSql(sql);
          if (!verdict.ok) throw new HeraldError(ErrorCode.INVALID_INPUT, verdict.error!);
          await ctx.resources.dataWarehouse!.explain(verdict.sql, signal);
          return verdict.sql;
        },
        { output: () => ({ valid: true }) },
      );
      return { sql: checked, title, notes: [] };
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      attempts.push({ sql, error: err.message });
      await ctx.thinking(`The query was refused (${err.message})${attempts.length < MAX_SQL_ATTEMPTS ? '; trying again.' : '.'}`);
    }
  }
  return { title, notes: [`I could not write a valid query for this question in ${MAX_SQL_ATTEMPTS} tries.`] };
}
