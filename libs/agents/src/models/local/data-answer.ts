import type { DataOutput } from '@herald/contracts';

const SHOWN_ROWS = 20;

/** The local engine's answer from a data agent's result: the headline figure, a Markdown table, the notes. */
export function composeDataAnswer(data: DataOutput): string {
  const parts: string[] = [];
  const table = data.table;
  if (!table) {
    parts.push(`I could not get figures for this from the sales dataset.`);
  } else if (table.rowCount === 0) {
    parts.push(`**${data.title}**: no rows match.`);
  } else if (table.columns.length === 1 && table.rowCount === 1) {
    parts.push(`**${data.title}**: ${format(table.rows[0][0])}.`);
  } else {
    const head = table.rows[0];
    parts.push(`**${data.title}**${table.columns.length === 2 ? ` — first: ${format(head[0])} with ${format(head[1])}` : ''}.`);
    const shown = table.rows.slice(0, SHOWN_ROWS);
    parts.push(
      [
        `| ${table.columns.join(' | ')} |`,
        `| ${table.columns.map(() => '---').join(' | ')} |`,
        ...shown.map((row) => `| ${row.map(format).join(' | ')} |`),
      ].join('\n'),
    );
    if (table.rowCount > shown.length) parts.push(`(${table.rowCount - shown.length} more rows in the result.)`);
  }
  parts.push(...data.notes);
  if (data.export) parts.push(`The result is attached as ${data.export.filename}.`);
  return parts.join('\n\n');
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return String(value).replace(/\|/g, '\\|');
}
