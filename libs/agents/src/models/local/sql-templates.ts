import { DEMO_CATEGORIES, DEMO_REGIONS, DEMO_SEGMENTS, DEMO_YEARS } from '../../data/demo-schema';
import { normalizeUtterance } from './intent-rules';

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
 * to inject. Asks when the metric is ambiguous ("sales") or nothing was recognised.
 */
export function sqlFromQuestion(question: string): SqlPlan {
  const text = normalizeUtterance(question);
  const metric = METRIC_WORDS.find(([, re]) => re.test(text))?.[0];
  let dimension = DIMENSION_WORDS.find(([, re]) => re.test(text))?.[0];
  if (dimension === 'customer' && metric === 'customers' && !/\b(by|per|each|top|best|which) customers?\b/.test(text))
    dimension = undefined;

  if (!metric && /\b(sales|sold|selling)\b/.test(text)) {
    return {
      title: 'Sales',
      confidence: 0.4,
      reasoning: '"Sales" can mean revenue or units sold; asking which.',
      clarification: { question: 'By "sales", do you mean revenue (USD) or units sold?', choices: ['revenue', 'units sold'] },
    };
  }
  if (!metric) {
    return {
      title: 'Unrecognised question',
      confidence: 0.2,
      reasoning: 'No figure of the dataset (revenue, units, orders, customers) was recognised; asking which one.',
      clarification: {
        question: 'Which figure would you like from the sales dataset?',
        choices: ['revenue by region', 'units sold by product', 'orders by month', 'customers by segment'],
      },
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
