import { DEMO_TABLES } from '../../data/demo-schema';
import { checkSql } from '../../data/sql-guard';
import { FIGURE_CHOICES, shapeOfTables, sqlFromQuestion } from './sql-templates';

describe('sqlFromQuestion (the local engine’s SQL templates)', () => {
  it('asks which figure when none is named, offering only choices a template answers', async () => {
    const plan = sqlFromQuestion('Show me the numbers', 'vague');
    expect(plan.sql).toBeUndefined();
    expect(plan.confidence).toBeLessThan(0.5);
    expect(plan.clarification).toEqual({ question: 'Which figures would you like from the sales dataset?', choices: [...FIGURE_CHOICES] });
    expect(FIGURE_CHOICES).toEqual([
      'Revenue by region',
      'Units sold by product',
      'Orders by month',
      'Customers by segment',
      'Rows per table',
    ]);
    // The data agent appends the answer in parentheses and asks again: each choice gives a query the guard accepts.
    for (const choice of FIGURE_CHOICES) {
      const answered = sqlFromQuestion(`Show me the numbers (${choice})`, 'vague');
      expect(answered.clarification).toBeUndefined();
      expect(answered.sql).toBeDefined();
      expect(answered.title.replace(/ \(USD\)/, '').toLowerCase()).toContain(choice.toLowerCase());
      expect(await checkSql(answered.sql!)).toMatchObject({ ok: true });
    }
  });

  it('keeps the filters of the question when a choice is picked', () => {
    expect(sqlFromQuestion('numbers for 2025 please (Revenue by region)', 'vague')).toMatchObject({
      title: 'Revenue (USD) by region in 2025',
      sql: expect.stringContaining("o.ordered_on >= DATE '2025-01-01'"),
    });
  });

  it('answers the size of the dataset with row counts of the demo tables', async () => {
    const all = sqlFromQuestion('How big are the demo tables?', 'shape');
    expect(all.title).toBe('Rows per table of the demo dataset');
    expect(all.sql).toBe(
      [
        "SELECT 'customers' AS table_name, count(*) AS row_count FROM demo.customers",
        "UNION ALL SELECT 'products', count(*) FROM demo.products",
        "UNION ALL SELECT 'orders', count(*) FROM demo.orders",
        'ORDER BY 2 DESC, 1',
      ].join('\n'),
    );
    const one = sqlFromQuestion('how many rows are in orders', 'shape');
    expect(one).toMatchObject({ title: 'Rows in demo.orders', sql: 'SELECT count(*) AS row_count\nFROM demo.orders' });
    for (const plan of [all, one]) expect(await checkSql(plan.sql!)).toMatchObject({ ok: true });
  });

  it('answers the columns of a table from the schema constant, not from information_schema', async () => {
    const plan = sqlFromQuestion('what columns does customers have', 'shape');
    expect(plan.title).toBe('Columns of demo.customers');
    const listed = DEMO_TABLES.customers.map((c) => c.split(' ').slice(0, 2).join(' ')).join(', ');
    expect(listed).toBe('id int, name text, region text, segment text, signed_up_on date');
    expect(plan.sql).toBe(
      `SELECT 'customers' AS table_name, '${listed}' AS columns, count(*) AS row_count FROM demo.customers\nORDER BY 1`,
    );
    expect(await checkSql(plan.sql!)).toMatchObject({ ok: true });

    const tables = sqlFromQuestion('what tables do you have?', 'shape');
    expect(tables.title).toBe('Tables of the demo dataset');
    for (const table of Object.keys(DEMO_TABLES)) expect(tables.sql).toContain(`FROM demo.${table}`);
    expect(await checkSql(tables.sql!)).toMatchObject({ ok: true });
  });

  it('reads only the demo tables, whatever the question says', () => {
    for (const q of ["how many rows are in pg_user'; --", 'what columns does information_schema.tables have', 'size of public.messages']) {
      const { sql } = sqlFromQuestion(q, 'shape');
      expect(sql).not.toMatch(/pg_|information_schema|public|--|;/);
      expect([...sql!.matchAll(/FROM (\S+)/g)].map((m) => m[1]).every((t) => /^demo\.(?:customers|products|orders)$/.test(t))).toBe(true);
    }
  });

  it('lists the tables it was asked about, in the order of the schema', () => {
    expect(shapeOfTables(['customers', 'orders'], 'size').title).toBe('Rows per table of demo.customers, demo.orders');
    expect(sqlFromQuestion('how many rows do products and orders have?', 'shape').sql).toMatch(
      /FROM demo\.products\nUNION ALL .* FROM demo\.orders/,
    );
  });

  it('still answers a named figure asked as a shape question by its grouping', () => {
    expect(sqlFromQuestion('how many customers per region are in the customers table', 'shape').title).toBe('Customers by region');
  });

  it('still asks revenue or units for "sales"', () => {
    expect(sqlFromQuestion('sales by category').clarification?.choices).toEqual(['revenue', 'units sold']);
  });
});
