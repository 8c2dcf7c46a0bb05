import { checkSql, MAX_SQL_CHARS } from './sql-guard';

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
    ['a row lock', 'SELECT * FROM demo.orders FOR UPDATE', /"update" is not allowed/i],
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
  ])('refuses %s', (_name, sql, reason) => {
    const verdict = checkSql(sql);
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
  ])('accepts %s', (_name, sql, expected) => {
    expect(checkSql(sql)).toEqual({ ok: true, sql: expected ?? sql.trim() });
  });
});
