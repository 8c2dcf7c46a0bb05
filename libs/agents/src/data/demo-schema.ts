import { DEMO_SCHEMA } from '@herald/contracts';

/**
 * The demo dataset the data agent answers from (migration DemoDataset1795334000002): what
 * SQL generation is told, and the only tables validation lets a query read.
 */
export const DEMO_SCHEMA_NAME = DEMO_SCHEMA;

export const DEMO_TABLES: Readonly<Record<string, readonly string[]>> = {
  customers: [
    'id int',
    'name text',
    "region text ('North' | 'South' | 'East' | 'West')",
    "segment text ('Enterprise' | 'SMB' | 'Consumer')",
    'signed_up_on date',
  ],
  products: ['id int', 'name text', "category text ('Hardware' | 'Software' | 'Services')", 'unit_price numeric'],
  orders: [
    'id int',
    'customer_id int → customers.id',
    'product_id int → products.id',
    'ordered_on date (2024-01-01 to 2025-12-31)',
    'quantity int',
    'amount numeric (USD)',
  ],
};

export const DEMO_REGIONS = ['North', 'South', 'East', 'West'] as const;
export const DEMO_SEGMENTS = ['Enterprise', 'SMB', 'Consumer'] as const;
export const DEMO_CATEGORIES = ['Hardware', 'Software', 'Services'] as const;
export const DEMO_YEARS = [2024, 2025] as const;

/** The schema as a model reads it. */
export function describeDemoSchema(): string {
  return Object.entries(DEMO_TABLES)
    .map(([table, columns]) => `${DEMO_SCHEMA_NAME}.${table}(${columns.join(', ')})`)
    .join('\n');
}
