import { sqlFromQuestion } from '../models/local/sql-templates';
import { checkSql, MAX_SQL_CHARS, MAX_STRING_CHARS } from './sql-guard';

/** checkSql alone, no database: the first line of defence (EXPLAIN on the read-only role comes next). */
describe('checkSql', () => {
  it.each([
    // several statements
    ['two statements', 'SELECT 1; SELECT 2', /one statement/],
    ['a write after a select', 'SELECT id FROM demo.orders; DELETE FROM demo.orders', /one statement/],
    ['a statement in a string', "SELECT ';DROP TABLE demo.orders' FROM demo.orders", /one statement/],
    // writes
    ['DELETE', 'DELETE FROM demo.orders', /Only SELECT/],
    ['UPDATE', 'UPDATE demo.orders SET amount = 0', /Only SELECT/],
    ['INSERT', 'INSERT INTO demo.orders (id) VALUES (1)', /Only SELECT/],
    ['a write in a CTE', 'WITH x AS (DELETE FROM demo.orders RETURNING *) SELECT * FROM x', /"DELETE" is not allowed/],
    ['an UPDATE in a CTE', 'WITH x AS (UPDATE demo.orders SET amount = 0 RETURNING id) SELECT id FROM x', /"UPDATE" is not allowed/],
    ['SELECT INTO', 'SELECT * INTO demo.copy FROM demo.orders', /"INTO" is not allowed/],
    ['a row lock', 'SELECT * FROM demo.orders FOR UPDATE', /"FOR UPDATE" is not allowed/i],
    ['a share lock', 'SELECT * FROM demo.orders FOR SHARE', /"FOR SHARE" is not allowed/],
    ['COPY', 'COPY demo.orders TO STDOUT', /Only SELECT/],
    // DDL
    ['DROP', 'DROP TABLE demo.orders', /Only SELECT/],
    ['CREATE', 'CREATE TABLE demo.x AS SELECT 1', /Only SELECT/],
    ['ALTER', 'ALTER TABLE demo.orders ADD COLUMN x int', /Only SELECT/],
    ['TRUNCATE', 'TRUNCATE demo.orders', /Only SELECT/],
    ['GRANT', 'GRANT ALL ON demo.orders TO public', /Only SELECT/],
    // settings and session
    ['set_config', "SELECT set_config('role', 'postgres', false)", /"set_config" is not allowed/],
    ['current_setting', "SELECT current_setting('data_directory')", /"current_setting" is not allowed/],
    ['SET', 'SET statement_timeout = 0', /Only SELECT/],
    // other schemas
    ['the public schema', 'SELECT * FROM public.messages', /"public" is not allowed/],
    [
      'a JOIN on another schema',
      'SELECT o.id FROM demo.orders o JOIN herald.users u ON u.id = o.customer_id',
      /Unknown table "herald.users"/,
    ],
    ['an unknown table', 'SELECT * FROM users', /Unknown table "users"/],
    ['information_schema', 'SELECT table_name FROM information_schema.tables', /"information_schema" is not allowed/],
    ['pg_catalog', 'SELECT * FROM pg_catalog.pg_roles', /"pg_catalog" is not allowed/],
    ['a quoted schema', 'SELECT * FROM "public"."messages"', /"public" is not allowed|Quoted identifiers/],
    ['quoted identifiers', 'SELECT * FROM "orders"', /Quoted identifiers/],
    ['comma-separated tables', 'SELECT * FROM demo.orders o, demo.customers c', /JOIN … ON/],
    ['a subquery on another schema', 'SELECT id FROM demo.orders WHERE id IN (SELECT id FROM public.users)', /"public" is not allowed/],
    // system functions
    ['pg_sleep', 'SELECT pg_sleep(10)', /"pg_sleep" is not allowed/],
    ['pg_read_file', "SELECT pg_read_file('/etc/passwd')", /"pg_read_file" is not allowed/],
    ['pg_ls_dir in a FROM', "SELECT * FROM pg_ls_dir('.')", /"pg_ls_dir" is not allowed/],
    ['large objects', 'SELECT lo_import(1)', /"lo_import" is not allowed/],
    ['dblink', "SELECT * FROM dblink('host=x', 'DELETE FROM demo.orders')", /is not allowed/],
    ['version', 'SELECT version()', /"version" is not allowed/],
    // comments hiding statements
    ['a line comment', 'SELECT id FROM demo.orders -- DROP TABLE demo.orders', /Comments/],
    ['a block comment', 'SELECT id /* ; DELETE FROM demo.orders */ FROM demo.orders', /one statement|Comments/],
    ['a block comment without a semicolon', 'SELECT id FROM demo.orders /* x */ WHERE id = 1', /Comments/],
    ['a comment hiding a keyword', 'SELECT 1 FROM demo.orders WHERE 1 = 1 /**/ UNION SELECT 2', /Comments/],
    // quoting tricks
    ['dollar quoting', 'SELECT $$x$$ FROM demo.orders', /Dollar/],
    ['a parameter', 'SELECT * FROM demo.orders WHERE id = $1', /Dollar/],
    ['an unclosed string', "SELECT 'x FROM demo.orders", /not closed/],
    ['a backslash escape', "SELECT E'\\x27' FROM demo.orders", /Backslashes/],
    // other
    ['empty', '   ', /empty/],
    ['only a semicolon', ';', /empty/],
    ['too long', `SELECT id FROM demo.orders WHERE id IN (${'1,'.repeat(MAX_SQL_CHARS)}1)`, /longer than/],
    ['EXPLAIN ANALYZE', 'EXPLAIN ANALYZE DELETE FROM demo.orders', /Only SELECT/],
    ['a transaction', 'BEGIN', /Only SELECT/],
  ])('refuses %s', async (_name, sql, reason) => {
    const verdict = await checkSql(sql);
    expect(verdict.ok).toBe(false);
    expect(verdict.error).toMatch(reason);
  });

  // The parser-based guard: what walked around the keyword guard, and more of the same.
  it.each([
    // functions that run SQL text hidden in a string constant
    ['ts_stat running a hidden query', "SELECT * FROM ts_stat('SELECT to_tsvector(content) FROM messages')", /"ts_stat" is not allowed/],
    ['ts_stat in the select list', "SELECT ts_stat('DELETE FROM demo.orders') FROM demo.orders", /"ts_stat" is not allowed/],
    ['query_to_xml', "SELECT query_to_xml('SELECT * FROM runs', true, true, '')", /"query_to_xml" is not allowed/],
    ['xpath', "SELECT xpath('/a', '<a/>')", /"xpath" is not allowed/],
    [
      'a function in a WHERE subquery',
      "SELECT id FROM demo.orders WHERE id = (SELECT length(pg_read_file('x')))",
      /"pg_read_file" is not allowed/,
    ],
    // TABLE shortcuts and other tables
    ['(TABLE runs)', '(TABLE runs)', /Unknown table "runs"/],
    ['TABLE conversations', 'TABLE conversations', /Unknown table "conversations"/],
    ['TABLE in a UNION', 'SELECT id FROM demo.orders UNION (TABLE runs)', /Unknown table "runs"/],
    ['ONLY public.runs', 'SELECT * FROM ONLY public.runs', /"public" is not allowed/],
    ['pg_authid unqualified', 'SELECT * FROM pg_authid', /Unknown table "pg_authid"/],
    ['a catalog joined in', 'SELECT o.id FROM demo.orders o JOIN pg_catalog.pg_class c ON true', /"pg_catalog" is not allowed/],
    ['another schema inside a CTE', 'WITH r AS (SELECT * FROM public.runs) SELECT * FROM r', /"public" is not allowed/],
    ['another table inside a FROM subquery', 'SELECT * FROM (SELECT * FROM runs) r', /Unknown table "runs"/],
    [
      'a CTE named like a demo table hiding another schema',
      'WITH orders AS (SELECT 1) SELECT * FROM public.orders',
      /"public" is not allowed/,
    ],
    // what tells about the deployment
    ['current_user', 'SELECT current_user', /"CURRENT_USER" is not allowed/],
    ['session_user in a WHERE', "SELECT id FROM demo.orders WHERE session_user = 'postgres'", /"SESSION_USER" is not allowed/],
    ['current_schema', 'SELECT current_schema', /"CURRENT_SCHEMA" is not allowed/],
    ['current_catalog', 'SELECT current_catalog', /"CURRENT_CATALOG" is not allowed/],
    ['current_timestamp (the server time zone)', 'SELECT current_timestamp', /"CURRENT_TIMESTAMP" is not allowed/],
    ['current_database()', 'SELECT current_database()', /"current_database" is not allowed/],
    ['inet_server_addr()', 'SELECT inet_server_addr()', /"inet_server_addr" is not allowed/],
    ['to_regclass', "SELECT to_regclass('public.runs')", /"to_regclass" is not allowed/],
    ['a regclass cast', "SELECT 'public.runs'::regclass", /type "regclass" is not allowed/],
    ['a regproc cast', "SELECT 'now'::regproc", /type "regproc" is not allowed/],
    ['version()', 'SELECT version()', /"version" is not allowed/],
    ['pg_catalog.version()', 'SELECT pg_catalog.version()', /"pg_catalog.version" is not allowed/],
    ['has_table_privilege', "SELECT has_table_privilege('runs', 'select')", /"has_table_privilege" is not allowed/],
    ['pg_backend_pid', 'SELECT pg_backend_pid()', /"pg_backend_pid" is not allowed/],
    // time and size
    ['pg_sleep in a WHERE', 'SELECT id FROM demo.orders WHERE pg_sleep(10) IS NULL', /"pg_sleep" is not allowed/],
    ['repeat() to 16 MB', "SELECT repeat('x', 16000000)", /"repeat" is not allowed/],
    ['lpad() to 16 MB', "SELECT lpad('x', 16000000)", /"lpad" is not allowed/],
    ['string_agg', "SELECT string_agg(name, ',') FROM demo.customers", /"string_agg" is not allowed/],
    ['array_agg', 'SELECT array_agg(id) FROM demo.orders', /"array_agg" is not allowed/],
    ['generate_series in FROM', 'SELECT * FROM generate_series(1, 1e9)', /"generate_series" is not allowed/],
    ['generate_series in the select list', 'SELECT generate_series(1, 1000000000)', /"generate_series" is not allowed/],
    ['a CROSS JOIN', 'SELECT * FROM demo.orders CROSS JOIN demo.orders o2', /CROSS JOIN is not allowed/],
    ['WITH RECURSIVE', 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r', /WITH RECURSIVE is not allowed/],
    ['string concatenation', 'SELECT name || name FROM demo.customers', /operator "\|\|" is not allowed/],
    ['a power', 'SELECT 10 ^ 100000', /operator "\^" is not allowed/],
    ['a huge number', 'SELECT 9e100000', /too large/],
    ['a number of 3,900 digits', `SELECT ${'9'.repeat(3900)}.5e100`, /too large/],
    ['a long string constant', `SELECT '${'x'.repeat(MAX_STRING_CHARS + 1)}'`, /limited to 200 characters/],
    [
      'a long to_char format',
      "SELECT to_char(ordered_on, 'YYYY-MM-DD HH24:MI:SS YYYY-MM-DD HH24:MI') FROM demo.orders",
      /format must be a short/,
    ],
    ['a computed date_trunc unit', 'SELECT date_trunc(name, signed_up_on) FROM demo.customers', /unit must be a short/],
    ['VALUES', 'SELECT * FROM (VALUES (1), (2)) AS v(x)', /VALUES lists are not allowed/],
    ['ARRAY[]', 'SELECT ARRAY[1, 2]', /ARRAY\[…\] is not allowed/],
    ['CUBE', 'SELECT count(*) FROM demo.orders GROUP BY CUBE (customer_id, product_id)', /Only ROLLUP/],
    // settings
    [
      'set_config in a WHERE',
      "SELECT id FROM demo.orders WHERE set_config('statement_timeout', '0', true) = '0'",
      /"set_config" is not allowed/,
    ],
    // lateral tricks
    ['a LATERAL subquery', 'SELECT * FROM demo.orders o JOIN LATERAL (SELECT o.id) x ON true', /LATERAL is not allowed/],
    [
      'a LATERAL function',
      'SELECT * FROM demo.orders o JOIN LATERAL generate_series(1, o.quantity) g ON true',
      /"generate_series" is not allowed/,
    ],
    ['a comma LATERAL', 'SELECT * FROM demo.orders o, LATERAL (SELECT 1) x', /JOIN … ON/],
    // writes, INTO, locks in new places
    ['an INSERT in a CTE', 'WITH x AS (INSERT INTO demo.orders (id) VALUES (1) RETURNING id) SELECT * FROM x', /"INSERT" is not allowed/],
    [
      'a MERGE in a CTE',
      'WITH x AS (MERGE INTO demo.orders o USING demo.orders p ON o.id = p.id WHEN MATCHED THEN DELETE) SELECT 1',
      /"MERGE" is not allowed|not valid SQL/,
    ],
    ['SELECT INTO TEMP', 'SELECT * INTO TEMP t FROM demo.orders', /"INTO" is not allowed/],
    ['FOR UPDATE in a subquery', 'SELECT * FROM (SELECT * FROM demo.orders FOR UPDATE) s', /"FOR UPDATE" is not allowed/],
    ['FOR NO KEY UPDATE', 'SELECT * FROM demo.orders FOR NO KEY UPDATE', /"FOR NO KEY UPDATE" is not allowed/],
    ['FOR KEY SHARE in a CTE', 'WITH x AS (SELECT * FROM demo.orders FOR KEY SHARE) SELECT * FROM x', /"FOR KEY SHARE" is not allowed/],
    // quoting
    ['tagged dollar quoting', 'SELECT $q$x$q$', /Dollar/],
    ['a unicode escape string', "SELECT U&'\\0041'", /Backslashes/],
    ['a unicode escape string with UESCAPE', "SELECT U&'!0041' UESCAPE '!'", /plain 'quoted' strings/],
    ['an E string with a hex escape', "SELECT E'\\x41\\x42' FROM demo.orders", /Backslashes/],
    ['an E string without a backslash', "SELECT E'abc' FROM demo.orders", /plain 'quoted' strings/],
    ['an N string', "SELECT N'abc'", /type "pg_catalog.bpchar" is not allowed/],
    ['a bit string', "SELECT X'1F'", /Bit-string constants are not allowed/],
    ['a Unicode quoted identifier', 'SELECT U&"\\0061" FROM demo.orders', /Backslashes|Quoted identifiers/],
    // comments
    ['a nested comment hiding a statement', 'SELECT 1 /* a /* b */ ; DELETE FROM demo.orders */', /one statement|Comments/],
    ['a nested comment', 'SELECT id FROM demo.orders /* /* x */ */', /Comments/],
    // columns and names
    ['system columns', 'SELECT ctid, xmin FROM demo.orders', /system column "ctid"/],
    ['a qualified system column', 'SELECT o.tableoid FROM demo.orders o', /system column "tableoid"/],
    ['a function called as a column (row_to_json(c))', 'SELECT c.row_to_json FROM demo.customers c', /Unknown column "c.row_to_json"/],
    [
      'a function called as a column of a CTE',
      'WITH x AS (SELECT 1 AS row_to_json), y AS (SELECT id FROM demo.orders) SELECT y.row_to_json FROM y',
      /Unknown column "y.row_to_json"/,
    ],
    [
      'a column of a CTE Postgres does not name so',
      'WITH t AS (SELECT coalesce(id, 0)::int FROM demo.orders) SELECT t.int4 FROM t',
      /Unknown column "t.int4": t has no named columns/,
    ],
    ['an unknown qualifier', 'SELECT z.id FROM demo.orders o', /"z" in "z.id" is not a table or alias/],
    ['field selection', 'SELECT (c).name FROM demo.customers c', /field selection is not allowed/],
    ['a schema-qualified operator', 'SELECT 1 OPERATOR(pg_catalog.+) 1', /operator "pg_catalog.\+" is not allowed/],
    ['a regex', "SELECT name FROM demo.customers WHERE name ~ 'a'", /operator "~" is not allowed/],
    ['SIMILAR TO', "SELECT name FROM demo.customers WHERE name SIMILAR TO 'a%'", /operator "~" is not allowed/],
    ['LIKE … ESCAPE', "SELECT name FROM demo.customers WHERE name LIKE 'a!%' ESCAPE '!'", /"pg_catalog.like_escape" is not allowed/],
    ['COLLATE', 'SELECT name COLLATE c FROM demo.customers', /COLLATE is not allowed/],
    ['TABLESAMPLE', 'SELECT * FROM demo.orders TABLESAMPLE SYSTEM (10)', /TABLESAMPLE is not allowed/],
    ['XML', 'SELECT xmlelement(name x)', /XML functions are not allowed/],
    ['a cast to xml', "SELECT '<a/>'::xml", /type "xml" is not allowed/],
    ['an array cast', "SELECT '{1}'::int[]", /Array types are not allowed/],
    ['WITHIN GROUP', 'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) FROM demo.orders', /"percentile_cont" is not allowed/],
    ['a NATURAL JOIN', 'SELECT * FROM demo.orders NATURAL JOIN demo.customers', /NATURAL JOIN is not allowed/],
    ['ORDER BY … USING', 'SELECT id FROM demo.orders ORDER BY id USING <', /USING is not allowed/],
    ['WITH TIES', 'SELECT id FROM demo.orders ORDER BY id FETCH FIRST 1 ROWS WITH TIES', /WITH TIES is not allowed/],
    ['JSON constructors', "SELECT JSON_OBJECT('a': 1)", /is not allowed/],
    ['a syntax error', 'SELECT FROM WHERE', /not valid SQL: syntax error/],
  ])('refuses %s', async (_name, sql, reason) => {
    const verdict = await checkSql(sql);
    expect(verdict.ok).toBe(false);
    expect(verdict.error).toMatch(reason);
  });

  it.each([
    ['a plain SELECT', 'SELECT id, amount FROM demo.orders', undefined],
    ['a trailing semicolon and spaces', '  SELECT id FROM demo.orders;  ', 'SELECT id FROM demo.orders'],
    ['lower case', 'select count(*) as n from demo.customers', undefined],
    ['a table without its schema', 'SELECT name FROM products', undefined],
    [
      'JOINs with aliases',
      'SELECT c.region, round(sum(o.amount), 2) AS revenue FROM demo.orders o JOIN demo.customers c ON c.id = o.customer_id GROUP BY 1 ORDER BY 2 DESC',
      undefined,
    ],
    [
      'JOINs with AS aliases and a LEFT JOIN',
      'SELECT p.category, count(o.id) AS n FROM demo.products AS p LEFT JOIN demo.orders AS o ON o.product_id = p.id GROUP BY p.category',
      undefined,
    ],
    [
      'a CTE',
      'WITH totals AS (SELECT customer_id, sum(amount) AS total FROM demo.orders GROUP BY customer_id) SELECT c.name, t.total FROM totals t JOIN demo.customers c ON c.id = t.customer_id ORDER BY t.total DESC LIMIT 5',
      undefined,
    ],
    ['two CTEs', 'WITH a AS (SELECT id FROM demo.orders), b AS (SELECT id FROM a) SELECT count(*) FROM b', undefined],
    ['a subquery', 'SELECT name FROM demo.customers WHERE id IN (SELECT customer_id FROM demo.orders WHERE amount > 100)', undefined],
    ['keywords inside string literals', "SELECT 'delete or drop' AS word FROM demo.orders WHERE 'x' <> 'it''s'", undefined],
    ['date filters', "SELECT count(*) FROM demo.orders WHERE ordered_on >= '2025-01-01' AND ordered_on < '2026-01-01'", undefined],
    ['a column named like a keyword prefix', 'SELECT updated, created_on FROM demo.orders', undefined],
  ])('accepts %s', async (_name, sql, expected) => {
    expect(await checkSql(sql)).toEqual({ ok: true, sql: expected ?? sql.trim() });
  });
  it.each([
    [
      'EXTRACT, date_trunc and to_char',
      "SELECT extract(year FROM ordered_on) AS y, date_trunc('month', ordered_on) AS m, to_char(ordered_on, 'YYYY-MM') AS ym FROM demo.orders",
    ],
    ['date_part', "SELECT date_part('year', ordered_on) AS y, count(*) FROM demo.orders GROUP BY 1"],
    [
      'CASE, COALESCE, NULLIF, GREATEST',
      "SELECT CASE WHEN amount > 1000 THEN 'big' ELSE 'small' END AS size, coalesce(nullif(quantity, 0), 1), greatest(amount, 0), least(amount, 10) FROM demo.orders",
    ],
    [
      'BETWEEN, IN, LIKE, ILIKE, IS NULL',
      "SELECT name FROM demo.customers WHERE id BETWEEN 1 AND 10 AND region IN ('North', 'East') AND name LIKE 'Cust%' AND segment NOT ILIKE 'smb' AND signed_up_on IS NOT NULL",
    ],
    ['casts', "SELECT CAST(amount AS numeric(10, 2)), amount::int, ordered_on + interval '1 month', DATE '2025-01-01' FROM demo.orders"],
    ['CURRENT_DATE', 'SELECT count(*) FROM demo.orders WHERE ordered_on < CURRENT_DATE'],
    [
      'a correlated EXISTS',
      'SELECT c.name FROM demo.customers c WHERE EXISTS (SELECT 1 FROM demo.orders o WHERE o.customer_id = c.id AND o.amount > 1000)',
    ],
    ['a scalar subquery', 'SELECT c.name, (SELECT count(*) FROM demo.orders o WHERE o.customer_id = c.id) AS n FROM demo.customers c'],
    [
      'UNION ALL with ORDER BY and LIMIT',
      "SELECT 'North' AS r, count(*) FROM demo.customers UNION ALL SELECT region, count(*) FROM demo.customers GROUP BY region ORDER BY 2 DESC LIMIT 3",
    ],
    [
      'window functions',
      'SELECT region, name, rank() OVER (PARTITION BY region ORDER BY signed_up_on) AS r, sum(id) OVER w FROM demo.customers WINDOW w AS (PARTITION BY segment)',
    ],
    [
      'ROLLUP, DISTINCT, COUNT(DISTINCT), FILTER',
      'SELECT DISTINCT c.region, count(DISTINCT o.product_id) AS products, count(*) FILTER (WHERE o.amount > 500) AS big FROM demo.orders o JOIN demo.customers c ON c.id = o.customer_id GROUP BY ROLLUP (c.region)',
    ],
    [
      'JOIN … USING and FULL JOIN',
      'SELECT p.name FROM demo.orders o JOIN demo.products p ON p.id = o.product_id FULL JOIN demo.customers c USING (id)',
    ],
    ['LIMIT and OFFSET', 'SELECT id FROM demo.orders ORDER BY id LIMIT 10 OFFSET 20'],
    ['TABLE on a demo table', 'TABLE demo.products'],
    ['a three-part column name', 'SELECT demo.orders.amount FROM demo.orders'],
    [
      'column aliases on a CTE and a subquery',
      'WITH t(cid, total) AS (SELECT customer_id, sum(amount) FROM demo.orders GROUP BY 1) SELECT t.cid, s.n FROM t JOIN (SELECT count(*) FROM demo.orders) AS s(n) ON true',
    ],
    ['a CTE column named by its aggregate', 'WITH t AS (SELECT count(*) FROM demo.orders) SELECT t.count FROM t'],
    ['a star from a subquery', 'SELECT s.name FROM (SELECT * FROM demo.customers) s'],
    ['non-ASCII text before a string constant', "SELECT name FROM demo.customers WHERE name <> 'Café Noël' AND region = 'North'"],
  ])('accepts %s', async (_name, sql) => {
    expect(await checkSql(sql)).toEqual({ ok: true, sql });
  });

  it.each([
    'What was the revenue by region in 2025?',
    'units sold by product',
    'orders by month',
    'customers by segment',
    'average order by category',
    'revenue by year for North',
    'top 5 customers by revenue in 2024',
    'how many customers for Enterprise',
  ])("accepts the local engine's SQL for %p", async (question) => {
    const { sql } = sqlFromQuestion(question);
    expect(sql).toBeDefined();
    expect(await checkSql(sql!)).toEqual({ ok: true, sql });
  });
});
