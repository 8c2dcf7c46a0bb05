import type { DataTable } from '@herald/contracts';

/** RFC 4180 CSV of a result; cells that a spreadsheet would run as formulas are quoted with a leading `'`. */
export function toCsv(table: Pick<DataTable, 'columns' | 'rows'>): string {
  const line = (cells: readonly unknown[]) => cells.map(csvCell).join(',');
  return [line(table.columns), ...table.rows.map(line)].join('\r\n') + '\r\n';
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
