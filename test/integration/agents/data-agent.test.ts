import { randomBytes } from 'node:crypto';
import {
  dataAgent,
  LocalEngine,
  MemoryEventSink,
  MemoryHumanChannel,
  MemoryKnowledgeBase,
  type ModelProvider,
  DATA_ROW_LIMIT,
  MAX_RESULT_BYTES,
  MAX_RESULT_ROWS,
  MAX_STRING_CHARS,
  PgDataWarehouse,
  runAgent,
  type SqlResult,
} from '@herald/agents';
import { DEMO_READER_ROLE, ErrorCode, HeraldError } from '@herald/contracts';
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
    await admin.query('CREATE SCHEMA scratch; CREATE TABLE scratch.secret AS SELECT 1 AS x');
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

  const rowCounts = async () => {
    const counts: Array<[string, number]> = [];
    for (const table of ['customers', 'products', 'orders'])
      counts.push([table, Number((await admin.query(`SELECT count(*) FROM demo.${table}`)).rows[0].count)]);
    return counts;
  };

  it('answers "How big are the demo tables?" with the row count of each demo table, without asking', async () => {
    const { sink, output } = await ask('How big are the demo tables?');
    expect(sink.ofType('clarification_requested')).toHaveLength(0);
    expect(output.title).toBe('Rows per table of the demo dataset');
    expect(output.table?.columns).toEqual(['table_name', 'row_count']);
    const expected = (await rowCounts()).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    expect(expected.map(([, n]) => n)).toEqual([1500, 40, expect.any(Number)]);
    expect(output.table?.rows).toEqual(expected);
  });

  it('answers the row count of one table, and its columns from the schema', async () => {
    const rows = await ask('How many rows are in the orders table?');
    expect(rows.output).toMatchObject({ title: 'Rows in demo.orders', table: { rows: [[1500]] } });
    const columns = await ask('What columns does the customers table have?');
    expect(columns.output.title).toBe('Columns of demo.customers');
    expect(columns.output.table?.rows).toEqual([['customers', 'id int, name text, region text, segment text, signed_up_on date', 40]]);
  });

  it('asks which figures for "Show me the numbers", offering only choices it then answers', async () => {
    const choices = ['Revenue by region', 'Units sold by product', 'Orders by month', 'Customers by segment', 'Rows per table'];
    for (const choice of choices) {
      const { sink, output } = await ask('Show me the numbers', { human: new MemoryHumanChannel(() => choice) });
      expect(sink.ofType('clarification_requested').map((e) => e.data.choices)).toEqual([choices]);
      expect(output.table?.rows.length).toBeGreaterThan(0);
      expect(output.title.replace(' (USD)', '').toLowerCase()).toContain(choice.toLowerCase());
    }
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
    // Each refusal is the role's or the transaction's (42501, 25006), never a syntax error, which refuses anything.
    const refused = {
      code: 'INVALID_INPUT',
      message: 'The query tried to do something it may not: only reading the demo tables is allowed.',
    };
    await expect(warehouse.query('SELECT * FROM public.messages', 10, signal)).rejects.toMatchObject(refused);
    await expect(warehouse.query('SELECT id FROM demo.orders FOR UPDATE', 10, signal)).rejects.toMatchObject(refused);
    // The transaction alone, for a user that may write (the tables' owner): its READ ONLY refuses the row locks.
    const owner = new Pool({ connectionString: dbUrl(), max: 1 });
    try {
      await expect(new PgDataWarehouse(owner).query('SELECT id FROM demo.orders FOR UPDATE', 10, signal)).rejects.toMatchObject(refused);
    } finally {
      await owner.end();
    }
    // A second statement cannot ride along: the query is wrapped, so it is a syntax error and nothing runs.
    await expect(warehouse.query('SELECT 1; DELETE FROM demo.orders', 10, signal)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'The query has a syntax error.',
    });
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

  it('the role reaches nothing but the demo data, even with raw SQL past the guard and without the pool settings', async () => {
    // A plain session of the role: the search path and read-only default come from the role (migration 4).
    const reader = new Client({ connectionString: dbUrl(DEMO_READER_ROLE) });
    await reader.connect();
    const denied = async (sql: string) => (await reader.query(sql).catch((e: { code?: string }) => e)) as { code?: string };
    try {
      expect((await reader.query('SHOW search_path')).rows[0].search_path).toBe('demo');
      expect((await reader.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only).toBe('on');
      expect((await reader.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(1500);
      for (const table of ['conversations', 'messages', 'events', 'runs', 'kb_documents', 'kb_chunks']) {
        expect(await denied(`SELECT * FROM public.${table} LIMIT 1`)).toMatchObject({ code: '42501' });
        expect(await denied(`SELECT * FROM ${table} LIMIT 1`)).toMatchObject({ code: '42P01' }); // not on its search path
      }
      expect(await denied('SELECT * FROM pg_authid')).toMatchObject({ code: '42501' });
      expect(await denied("SELECT current_setting('data_directory')")).toMatchObject({ code: '42501' });
      expect(await denied("SELECT pg_read_file('/etc/passwd')")).toMatchObject({ code: '42501' });
      expect(await denied('SELECT * FROM scratch.secret')).toMatchObject({ code: '42501' });
      // Its catalog view of tables: the demo ones only.
      const visible = await reader.query(
        "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
      );
      expect(visible.rows.map((r) => r.table_schema)).toEqual(['demo']);
      expect(
        (await reader.query("SELECT pg_has_role('herald_demo_reader', oid, 'MEMBER') FROM pg_roles WHERE rolname = 'pg_read_all_data'"))
          .rows[0],
      ).toEqual({
        pg_has_role: false,
      });
      // Writable transactions are the role's to ask for, and still cannot create anything.
      await reader.query('SET default_transaction_read_only = off');
      expect(await denied('CREATE TEMP TABLE t (x int)')).toMatchObject({ code: '42501' });
      expect(await denied('CREATE TABLE demo.t (x int)')).toMatchObject({ code: '42501' });
      expect(await denied('CREATE TABLE public.t (x int)')).toMatchObject({ code: '42501' });
      expect(await denied('DELETE FROM demo.orders')).toMatchObject({ code: '42501' });
    } finally {
      await reader.end();
    }
    expect(await orderCount()).toBe(1500);
  });

  it('caps a big result past the guard in Postgres: 16 MB in one value, a cross join, wide rows', async () => {
    const logger = { warn: jest.fn() };
    const warehouse = new PgDataWarehouse(pool, 5_000, logger);
    const signal = new AbortController().signal;
    const huge = await warehouse.query("SELECT repeat('x', 16000000) AS big", 200, signal);
    expect(huge).toMatchObject({ columns: ['big'], rows: [], rowCount: 0, truncated: true });

    const wide = await warehouse.query("SELECT id, repeat('x', 5000) AS filler FROM demo.orders ORDER BY id", 200, signal);
    expect(wide.truncated).toBe(true);
    expect(wide.rowCount).toBeGreaterThan(40);
    expect(wide.rowCount).toBeLessThan(60);
    expect(wide.rows.map((r) => r[0])).toEqual(Array.from({ length: wide.rowCount }, (_, i) => i + 1)); // in order, from the start
    expect(Buffer.byteLength(JSON.stringify(wide.rows))).toBeLessThanOrEqual(MAX_RESULT_BYTES);

    const cross = await warehouse.query(
      'SELECT a.id FROM demo.orders a JOIN demo.orders b ON true JOIN demo.orders c ON true',
      5_000,
      signal,
    );
    expect(cross).toMatchObject({ rowCount: MAX_RESULT_ROWS, truncated: true });

    const exact = await warehouse.query('SELECT id FROM demo.products ORDER BY id', 200, signal);
    expect(exact).toMatchObject({ rowCount: 8, truncated: false, columns: ['id'] });
    expect(await warehouse.query('SELECT id FROM demo.products WHERE false', 200, signal)).toMatchObject({ rows: [], truncated: false });
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('cuts a result the guard lets through at 256 KiB, and says so in the answer', async () => {
    const filler = (i: number) => `'${String(i).repeat(MAX_STRING_CHARS)}' AS f${i}`;
    const sql = `SELECT o.id, ${[1, 2, 3, 4, 5, 6, 7].map(filler).join(', ')} FROM demo.orders o ORDER BY o.id`;
    const { sink, output } = await ask('anything', { model: scriptedModel([sql]) });
    expect(sink.ofType('tool_completed').map((e) => [e.data.tool, e.data.ok])).toContainEqual(['sql_query', true]);
    const rows = output.table!.rows.length;
    expect(rows).toBeGreaterThan(100);
    expect(rows).toBeLessThan(DATA_ROW_LIMIT);
    expect(output.notes).toEqual([`Only the first ${rows} rows are shown: the whole result is larger than 256 KiB.`]);
  });

  it("never shows a database error's text: a fixed message per SQLSTATE for the model and the user, the real one in the log", async () => {
    // Past the guard and EXPLAIN, failing as it runs.
    const { sink, output } = await ask('anything', { model: scriptedModel(['SELECT 1 / (id - id) AS x FROM demo.orders']) });
    const failed = sink.ofType('tool_completed').find((e) => e.data.tool === 'sql_query');
    expect(failed?.data).toMatchObject({ ok: false, error: 'The query divides by zero: guard the divisor with NULLIF(…, 0).' });
    expect(output.notes).toEqual(['The query could not run: The query divides by zero: guard the divisor with NULLIF(…, 0).']);
    expect(JSON.stringify(sink.events)).not.toMatch(/division by zero/);

    const logger = { warn: jest.fn() };
    const warehouse = new PgDataWarehouse(pool, 5_000, logger);
    const signal = new AbortController().signal;
    const leaky: Array<[string, RegExp]> = [
      ['SELECT * FROM public.messages', /permission denied for schema public/],
      ['SELECT * FROM pg_authid', /permission denied for table pg_authid/],
      ["SELECT current_setting('data_directory')", /data_directory/],
      ["SELECT 'abc'::int", /invalid input syntax for type integer/],
      ['SELECT * FROM runs', /relation "runs" does not exist/],
    ];
    for (const [sql, real] of leaky) {
      logger.warn.mockClear();
      const err = (await warehouse.query(sql, 10, signal).catch((e: unknown) => e)) as HeraldError;
      expect(err).toBeInstanceOf(HeraldError);
      expect(err.message).not.toMatch(real);
      expect(err.message).not.toMatch(/permission denied|pg_authid|data_directory|public|syntax for type/);
      expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.stringMatching(real), sql }), expect.any(String));
    }
    await expect(warehouse.query('SELECT * FROM public.messages', 10, signal)).rejects.toMatchObject({
      code: ErrorCode.INVALID_INPUT,
      message: 'The query tried to do something it may not: only reading the demo tables is allowed.',
    });
    // Only a plain name of the query's own text is quoted back.
    await expect(warehouse.explain('SELECT * FROM runs', signal)).rejects.toMatchObject({
      message: expect.stringMatching(/^table "runs" does not exist; the columns are demo\.customers\(id, name/),
    });
  });

  it('a migrating user that is neither superuser nor in PUBLIC keeps its own rights after the lockdown', async () => {
    const app = `herald_app_${randomBytes(4).toString('hex')}`;
    const appDb = `${dbName}_own`;
    const maintenance = new Client({ connectionString: new URL('/postgres', BASE).toString() });
    await maintenance.connect();
    const url = (user: string) => {
      const u = new URL(BASE);
      u.pathname = `/${appDb}`;
      u.username = user;
      u.password = '';
      return u.toString();
    };
    try {
      await maintenance.query(`CREATE ROLE ${app} LOGIN CREATEROLE`);
      // What a Herald user has when it created the reader itself (Postgres 16 needs ADMIN to alter a role).
      await maintenance.query(`GRANT ${DEMO_READER_ROLE} TO ${app} WITH ADMIN OPTION`);
      await maintenance.query(`CREATE DATABASE ${appDb} OWNER ${app}`);
      await runMigrations(url(app));
      const own = new Client({ connectionString: url(app) });
      await own.connect();
      try {
        await own.query('CREATE TABLE public.scratch (x int)');
        await own.query('CREATE TEMP TABLE scratch_tmp (x int)');
        expect((await own.query('SELECT count(*)::int AS n FROM public.conversations')).rows[0].n).toBe(0);
      } finally {
        await own.end();
      }
      const reader = new Client({ connectionString: url(DEMO_READER_ROLE) });
      await reader.connect();
      try {
        await expect(reader.query('SELECT * FROM public.conversations')).rejects.toMatchObject({ code: '42501' });
        expect((await reader.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(1500);
      } finally {
        await reader.end();
      }
    } finally {
      await maintenance.query(`DROP DATABASE IF EXISTS ${appDb} WITH (FORCE)`);
      await maintenance.query(`DROP ROLE IF EXISTS ${app}`);
      await maintenance.end();
    }
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
