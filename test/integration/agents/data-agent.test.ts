import { randomBytes } from 'node:crypto';
import {
  dataAgent,
  LocalEngine,
  MemoryEventSink,
  MemoryHumanChannel,
  MemoryKnowledgeBase,
  type ModelProvider,
  PgDataWarehouse,
  runAgent,
  type SqlResult,
} from '@herald/agents';
import { ErrorCode, HeraldError } from '@herald/contracts';
import { runMigrations } from '@herald/db';
import { Client, Pool } from 'pg';

const BASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/herald';
const dbName = `herald_data_${randomBytes(4).toString('hex')}`;
const dbUrl = (user?: string) => {
  const u = new URL(BASE);
  u.pathname = `/${dbName}`;
  if (user) u.username = user;
  return u.toString();
};

/** A model whose SQL is scripted: what an LLM (or an attacker steering one) could produce. */
function scriptedModel(sqls: string[]): ModelProvider {
  const local = new LocalEngine();
  let i = 0;
  return {
    name: 'scripted',
    deterministic: true,
    complete: (r) => local.complete(r),
    classifyIntent: (r) => local.classifyIntent(r),
    generateSql: async (): Promise<SqlResult> => ({
      sql: sqls[Math.min(i++, sqls.length - 1)],
      title: 'Scripted',
      confidence: 0.9,
      reasoning: 'scripted',
      usage: { promptTokens: 1, completionTokens: 1 },
    }),
  };
}

describe('the data agent on the demo dataset (real Postgres, read-only role)', () => {
  let pool: Pool;
  let admin: Client;

  beforeAll(async () => {
    await runMigrations(dbUrl());
    pool = new Pool({
      connectionString: dbUrl('herald_demo_reader'),
      options: '-c default_transaction_read_only=on -c search_path=demo',
      max: 2,
    });
    admin = new Client({ connectionString: dbUrl() });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await admin?.end();
    // The maintenance database: the one in DATABASE_URL may not exist on a fresh machine.
    const c = new Client({ connectionString: new URL('/postgres', BASE).toString() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await c.end();
  });

  async function ask(question: string, opts: { model?: ModelProvider; human?: MemoryHumanChannel } = {}) {
    const sink = new MemoryEventSink();
    const result = await runAgent(dataAgent, {
      step: { runId: 'r', conversationId: 'c', messageId: 'm', step: 1, stream: false },
      input: { question },
      history: [],
      traceLevel: 'full',
      sink,
      model: opts.model ?? new LocalEngine(),
      resources: { knowledgeBase: new MemoryKnowledgeBase([]), dataWarehouse: new PgDataWarehouse(pool) },
      signal: new AbortController().signal,
      human: opts.human ?? new MemoryHumanChannel(),
      humanResponseTimeoutMs: 2_000,
    });
    return {
      sink,
      output: result.output as {
        title: string;
        table?: { columns: string[]; rows: unknown[][]; sql: string };
        notes: string[];
        export?: { content: string };
      },
    };
  }

  const orderCount = async () => Number((await admin.query('SELECT count(*) FROM demo.orders')).rows[0].count);

  it('answers revenue by region in 2025 with a table, through schema → generate → validate → query', async () => {
    const { sink, output } = await ask('What was the revenue by region in 2025?');
    expect(output.table?.columns).toEqual(['region', 'value']);
    expect(output.table?.rows).toHaveLength(4);
    const expected = await admin.query(
      `SELECT c.region, round(sum(o.amount), 2) AS v FROM demo.orders o JOIN demo.customers c ON c.id = o.customer_id
       WHERE o.ordered_on >= '2025-01-01' AND o.ordered_on < '2026-01-01' GROUP BY 1 ORDER BY 2 DESC, 1`,
    );
    expect(output.table?.rows).toEqual(expected.rows.map((r) => [r.region, Number(r.v)]));
    expect(sink.ofType('tool_completed').map((e) => [e.data.tool, e.data.ok])).toEqual([
      ['schema_lookup', true],
      ['sql_validate', true],
      ['sql_query', true],
    ]);
    expect(sink.ofType('status').map((e) => e.data.step)).toEqual(['retrieving', 'generating', 'validating', 'querying']);
  });

  it('asks when "sales" is ambiguous and uses the answer', async () => {
    const human = new MemoryHumanChannel(() => 'units sold');
    const { sink, output } = await ask('sales by category', { human });
    expect(sink.ofType('clarification_requested')[0].data).toMatchObject({ choices: ['revenue', 'units sold'] });
    expect(output.title).toBe('Units sold by category');
  });

  it('never lets the question into the SQL: injection attempts give template SQL only', async () => {
    for (const q of [
      "revenue by region'; DROP TABLE demo.orders; --",
      'revenue by region" OR 1=1',
      'units by product) UNION SELECT * FROM public.messages',
    ]) {
      const { output } = await ask(q);
      expect(output.table?.sql).not.toMatch(/drop|union|messages|1=1|--|"/i);
    }
    expect(await orderCount()).toBe(1500);
  });

  it('refuses writes, other schemas, several statements and system functions from the model, retrying up to the limit', async () => {
    const evil = [
      'DELETE FROM demo.orders',
      'SELECT 1; DROP TABLE demo.orders',
      'SELECT * FROM public.messages',
      "SELECT set_config('role', 'postgres', false)",
      'SELECT pg_sleep(10)',
      'SELECT * FROM demo.orders FOR UPDATE',
      'WITH x AS (DELETE FROM demo.orders RETURNING *) SELECT * FROM x',
      'SELECT * INTO demo.copy FROM demo.orders',
    ];
    for (const sql of evil) {
      const { sink, output } = await ask('anything', { model: scriptedModel([sql]) });
      expect(output.table).toBeUndefined();
      const validations = sink.ofType('tool_completed').filter((e) => e.data.tool === 'sql_validate');
      expect(validations).toHaveLength(3);
      expect(validations.every((e) => e.data.ok === false)).toBe(true);
      expect(output.notes[0]).toMatch(/could not write a valid query/);
    }
    expect(await orderCount()).toBe(1500);
  });

  it('iterates after a query EXPLAIN refuses, and succeeds with the fixed one', async () => {
    const { sink, output } = await ask('anything', {
      model: scriptedModel(['SELECT nope FROM demo.orders', 'SELECT count(*) AS n FROM demo.orders']),
    });
    const validations = sink.ofType('tool_completed').filter((e) => e.data.tool === 'sql_validate');
    expect(validations.map((e) => e.data.ok)).toEqual([false, true]);
    expect(validations[0].data.error).toMatch(/column "nope" does not exist/);
    expect(output.table?.rows).toEqual([[1500]]);
  });

  it('the role and the transaction refuse writes and other schemas even past the guard', async () => {
    const warehouse = new PgDataWarehouse(pool);
    const signal = new AbortController().signal;
    await expect(warehouse.query('SELECT * FROM public.messages', 10, signal)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(warehouse.query('SELECT 1; DELETE FROM demo.orders', 10, signal)).rejects.toBeDefined();
    const rows = await warehouse.query('SELECT id FROM demo.orders ORDER BY id', 7, signal);
    expect(rows).toMatchObject({ rowCount: 7, truncated: true });
    expect(await orderCount()).toBe(1500);
  });

  it('statement_timeout stops a slow query past the guard: TIMEOUT, and the pool stays usable', async () => {
    const warehouse = new PgDataWarehouse(pool, 200);
    const signal = new AbortController().signal;
    const startedAt = Date.now();
    const err = await warehouse.query('SELECT pg_sleep(2)', 10, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ code: ErrorCode.TIMEOUT, message: 'The query took too long and was stopped.' });
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    await expect(warehouse.query('SELECT 1 AS one', 10, signal)).resolves.toMatchObject({ rows: [[1]] });
  });

  it('exports only with approval; a refusal ends that path politely', async () => {
    const yes = await ask('Export the revenue by region as CSV', { human: new MemoryHumanChannel(() => ({ approved: true })) });
    expect(yes.output.export?.content.split('\r\n')[0]).toBe('region,value');
    const no = await ask('Export the revenue by region as CSV', { human: new MemoryHumanChannel(() => ({ approved: false })) });
    expect(no.output.export).toBeUndefined();
    expect(no.output.table?.rows).toHaveLength(4);
    expect(no.output.notes).toContain('You declined the export, so the result is only shown here.');
    expect(no.sink.ofType('tool_executing').map((e) => e.data.tool)).not.toContain('export_csv');
  });
});
