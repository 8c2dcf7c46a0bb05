import { DEMO_CATEGORIES, DEMO_REGIONS, DEMO_SCHEMA_NAME, DEMO_SEGMENTS, DEMO_TABLES, DEMO_YEARS } from '../../data/demo-schema';
import type { DataKind } from './intent-classifier';
import { normalizeUtterance } from './text-terms';

type Metric = 'revenue' | 'units' | 'orders' | 'customers' | 'average_order';
type Dimension = 'region' | 'segment' | 'category' | 'product' | 'customer' | 'month' | 'year';

const METRICS: Record<Metric, { expr: string; label: string }> = {
  revenue: { expr: 'round(sum(o.amount), 2)', label: 'Revenue (USD)' },
  units: { expr: 'sum(o.quantity)', label: 'Units sold' },
  orders: { expr: 'count(*)', label: 'Orders' },
  customers: { expr: 'count(DISTINCT c.id)', label: 'Customers' },
  average_order: { expr: 'round(avg(o.amount), 2)', label: 'Average order (USD)' },
};

const DIMENSIONS: Record<Dimension, { expr: string; label: string; order?: string }> = {
  region: { expr: 'c.region', label: 'region' },
  segment: { expr: 'c.segment', label: 'segment' },
  category: { expr: 'p.category', label: 'category' },
  product: { expr: 'p.name', label: 'product' },
  customer: { expr: 'c.name', label: 'customer' },
  month: { expr: "to_char(o.ordered_on, 'YYYY-MM')", label: 'month', order: 'ASC' },
  year: { expr: 'extract(year FROM o.ordered_on)::int', label: 'year', order: 'ASC' },
};

// prettier-ignore
const METRIC_WORDS: Array<[Metric, RegExp]> = [
  ['average_order', /\b(average|avg|mean) (order|sale|basket)/],
  ['revenue', /\b(revenue|revenues|turnover|income|earn\w*|amount|dollars|usd|money)\b/],
  ['units', /\b(units|quantity|quantities|items)\b/],
  ['orders', /\b(orders|ordered|purchases)\b/],
  ['customers', /\b(customers|clients|buyers)\b/],
];
const DIMENSION_WORDS: Array<[Dimension, RegExp]> = [
  ['region', /\b(by|per|each|every|across) regions?\b|\bregions\b/],
  ['segment', /\b(by|per|each|every|across) segments?\b|\bsegments\b/],
  ['category', /\b(by|per|each|every|across) (product )?categor(y|ies)\b|\bcategories\b/],
  ['month', /\b(by|per|each|every) month\b|\bmonthly\b|\bover time\b/],
  ['year', /\b(by|per|each|every) year\b|\byearly\b|\bannual\w*\b/],
  ['customer', /\b(by|per|each|every) customers?\b|\bwhich customers?\b|\btop \d* ?customers\b|\bbest customers\b/],
  ['product', /\b(by|per|each|every) products?\b|\bwhich products?\b|\btop \d* ?products\b|\bbest.selling\b|\bproducts\b/],
];

/** The figures a vague request is offered: each is a metric and a grouping the templates answer. */
const SUGGESTED_FIGURES: ReadonlyArray<readonly [Metric, Dimension]> = [
  ['revenue', 'region'],
  ['units', 'product'],
  ['orders', 'month'],
  ['customers', 'segment'],
];
/** The choice that answers with the size of each table of the dataset. */
const ROWS_PER_TABLE_CHOICE = 'Rows per table';

/**
 * What a clarification offers when no figure was recognised: made from the templates' own
 * metrics and groupings ("Revenue by region"), plus the tables' sizes, so every choice,
 * once picked, is answered.
 */
export const FIGURE_CHOICES: readonly string[] = [
  ...SUGGESTED_FIGURES.map(([m, d]) => `${METRICS[m].label.replace(/ \(.*\)$/, '')} by ${DIMENSIONS[d].label}`),
  ROWS_PER_TABLE_CHOICE,
];

const TABLES = Object.keys(DEMO_TABLES);
/** Words that ask about columns rather than size; without either, a listing has both. */
const COLUMN_WORDS = /\b(?:columns?|fields?|attributes?|schema|structure|types?|looks? like|describe|model)\b/;
const SIZE_WORDS = /\b(?:how (?:big|large|many)|size|sizes|rows?|records?|entries|count|counts|volume|biggest|largest|smallest)\b/;

export interface SqlPlan {
  sql?: string;
  title: string;
  confidence: number;
  reasoning: string;
  clarification?: { question: string; choices?: string[] };
}

/**
 * The local engine's text to SQL: picks a metric, a grouping, filters (year, region,
 * segment, category) and a top N from fixed word lists, and fills a template. Nothing of the
 * question's own text ever reaches the SQL, only values from those lists: there is nothing
 * to inject. Asks when the metric is ambiguous ("sales") or nothing was recognised, offering
 * FIGURE_CHOICES. `kind` (from the intent classifier) `shape`: the question is about the
 * dataset's own tables, answered with their row counts and columns (shapeOfTables).
 */
export function sqlFromQuestion(question: string, kind: DataKind = 'figure'): SqlPlan {
  const text = normalizeUtterance(question);
  // The data agent appends the user's answer to a clarification in parentheses.
  const answer = /\(([^()]*)\)\s*$/.exec(question)?.[1];
  if (answer !== undefined && normalizeUtterance(answer) === normalizeUtterance(ROWS_PER_TABLE_CHOICE))
    return shapeOfTables(TABLES, 'size');

  const metric = METRIC_WORDS.find(([, re]) => re.test(text))?.[0];
  let dimension = DIMENSION_WORDS.find(([, re]) => re.test(text))?.[0];
  if (dimension === 'customer' && metric === 'customers' && !/\b(?:by|per|each|top|best|which) customers?\b/.test(text))
    dimension = undefined;
  // "products" and "customers" name tables too: only another grouping makes it a figure.
  if (kind === 'shape' && (!dimension || dimension === 'product' || dimension === 'customer')) {
    const named = TABLES.filter((t) => new RegExp(`\\b${t.replace(/s$/, '')}s?\\b`).test(text));
    return shapeOfTables(named.length ? named : TABLES, COLUMN_WORDS.test(text) || !SIZE_WORDS.test(text) ? 'columns' : 'size');
  }

  if (!metric && /\b(?:sales|sold|selling)\b/.test(text)) {
    return {
      title: 'Sales',
      confidence: 0.4,
      reasoning: '"Sales" can mean revenue or units sold; asking which.',
      clarification: { question: 'By "sales", do you mean revenue (USD) or units sold?', choices: ['revenue', 'units sold'] },
    };
  }
  if (!metric) {
    return {
      title: kind === 'vague' ? 'Figures of the sales dataset' : 'Unrecognised question',
      confidence: 0.2,
      reasoning:
        kind === 'vague'
          ? 'It asks for figures without naming one; asking which, among those the dataset can give.'
          : 'No figure of the dataset (revenue, units, orders, customers) was recognised; asking which one.',
      clarification: { question: 'Which figures would you like from the sales dataset?', choices: [...FIGURE_CHOICES] },
    };
  }

  const filters: string[] = [];
  const described: string[] = [];
  const year = DEMO_YEARS.find((y) => new RegExp(`\\b${y}\\b`).test(text));
  if (year && metric !== 'customers') {
    filters.push(`o.ordered_on >= DATE '${year}-01-01' AND o.ordered_on < DATE '${year + 1}-01-01'`);
    described.push(`in ${year}`);
  }
  for (const [values, column] of [
    [DEMO_REGIONS, 'c.region'],
    [DEMO_SEGMENTS, 'c.segment'],
    [DEMO_CATEGORIES, 'p.category'],
  ] as const) {
    const value = values.find((v) => new RegExp(`\\b${v.toLowerCase()}\\b`).test(text));
    if (value && !(metric === 'customers' && column === 'p.category')) {
      filters.push(`${column} = '${value}'`);
      described.push(`for ${value}`);
    }
  }
  const top = /\b(?:top|best|first|largest|biggest)\s+(\d{1,2})\b/.exec(text);
  const limit = top ? Math.min(50, Math.max(1, Number(top[1]))) : undefined;

  const m = METRICS[metric];
  const d = dimension ? DIMENSIONS[dimension] : undefined;
  const from =
    metric === 'customers' && (!d || d.expr.startsWith('c.'))
      ? 'demo.customers c'
      : 'demo.orders o JOIN demo.customers c ON c.id = o.customer_id JOIN demo.products p ON p.id = o.product_id';
  const select = d ? `${d.expr} AS ${d.label}, ${m.expr} AS value` : `${m.expr} AS value`;
  const lines = [`SELECT ${select}`, `FROM ${from}`];
  if (filters.length) lines.push(`WHERE ${filters.join(' AND ')}`);
  if (d) lines.push(`GROUP BY 1`, d.order ? `ORDER BY 1 ${d.order}` : 'ORDER BY 2 DESC, 1');
  if (limit && d) lines.push(`LIMIT ${limit}`);

  const title = [
    limit && d ? `Top ${limit} ${d.label}s by ${m.label.toLowerCase()}` : d ? `${m.label} by ${d.label}` : m.label,
    ...described,
  ].join(' ');
  return {
    sql: lines.join('\n'),
    title,
    confidence: d ? 0.9 : 0.75,
    reasoning: `Recognised the figure "${m.label}"${d ? `, grouped by ${d.label}` : ' as a total'}${described.length ? `, ${described.join(', ')}` : ''}.`,
  };
}

/**
 * The dataset's own shape, from the demo tables only: their row counts (`size`), or their
 * columns, as the schema constant describes them, with the row counts (`columns`). The
 * column lists are string constants made from DEMO_TABLES (no information_schema).
 */
export function shapeOfTables(tables: readonly string[], mode: 'size' | 'columns'): SqlPlan {
  const columnsOf = (table: string) => {
    const list = DEMO_TABLES[table].map((c) => c.split(' ').slice(0, 2).join(' ')).join(', ');
    if (!/^[a-z0-9_ ,]+$/.test(list)) throw new Error(`Unexpected characters in the columns of ${table}`);
    return list;
  };
  const qualified = (t: string) => `${DEMO_SCHEMA_NAME}.${t}`;
  const names = tables.map(qualified).join(', ');
  const all = tables.length === Object.keys(DEMO_TABLES).length;
  if (mode === 'size' && tables.length === 1) {
    return {
      sql: `SELECT count(*) AS row_count\nFROM ${qualified(tables[0])}`,
      title: `Rows in ${qualified(tables[0])}`,
      confidence: 0.85,
      reasoning: `A question about the dataset itself: counting the rows of ${names}.`,
    };
  }
  const selects = tables.map((t, i) => {
    const name = i === 0 ? `'${t}' AS table_name` : `'${t}'`;
    const columns = mode === 'columns' ? (i === 0 ? `'${columnsOf(t)}' AS columns, ` : `'${columnsOf(t)}', `) : '';
    return `SELECT ${name}, ${columns}count(*)${i === 0 ? ' AS row_count' : ''} FROM ${qualified(t)}`;
  });
  return {
    sql: [selects.join('\nUNION ALL '), mode === 'size' ? 'ORDER BY 2 DESC, 1' : 'ORDER BY 1'].join('\n'),
    title:
      mode === 'size'
        ? `Rows per table of ${all ? 'the demo dataset' : names}`
        : tables.length === 1
          ? `Columns of ${qualified(tables[0])}`
          : `Tables of ${all ? 'the demo dataset' : names}`,
    confidence: 0.85,
    reasoning: `A question about the dataset itself: ${mode === 'size' ? 'the row counts' : 'the columns and row counts'} of ${names}.`,
  };
}
