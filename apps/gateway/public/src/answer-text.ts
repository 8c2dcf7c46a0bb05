import { h } from './dom';

/**
 * The little Markdown the agents write, as elements: `| a | b |` tables (a header row, a
 * `|---|` rule, then rows), `**bold**` and `` `code` ``. Everything else stays text, and
 * nothing is ever parsed as HTML.
 */
export function renderAnswer(content: string): Array<string | HTMLElement> {
  const out: Array<string | HTMLElement> = [];
  const lines = content.split('\n');
  let text: string[] = [];
  const flushText = () => {
    if (text.length) out.push(...inline(text.join('\n')));
    text = [];
  };
  for (let i = 0; i < lines.length;) {
    if (isRow(lines[i]) && isRule(lines[i + 1])) {
      const rows: string[][] = [];
      const header = cells(lines[i]);
      for (i += 2; i < lines.length && isRow(lines[i]); i++) rows.push(cells(lines[i]));
      // The line break before the table becomes its margin; the one after it too.
      if (text.length && text[text.length - 1] === '') text.pop();
      flushText();
      out.push(table(header, rows));
      if (lines[i] === '') i++;
      continue;
    }
    text.push(lines[i]);
    i++;
  }
  flushText();
  return out;
}

const isRow = (line: string | undefined) => line !== undefined && /^\s*\|.*\|\s*$/.test(line);
const isRule = (line: string | undefined) => isRow(line) && /^[\s|:-]+$/.test(line!) && line!.includes('-');
const cells = (line: string) =>
  line
    .trim()
    .slice(1, -1)
    .split('|')
    .map((c) => c.trim());
/** Numbers (with thousands separators, a sign, a decimal part or a unit) align right. */
const numeric = (cell: string) => /^[-+]?[$€£]?\d[\d,.\s]*%?$/.test(cell);

function table(header: string[], rows: string[][]): HTMLElement {
  const align = header.map((_, c) => (rows.length && rows.every((r) => numeric(r[c] ?? '')) ? 'num' : undefined));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...header.map((cell, c) => h('th', { class: align[c], scope: 'col' }, ...inline(cell))))),
      h('tbody', {}, ...rows.map((row) => h('tr', {}, ...header.map((_, c) => h('td', { class: align[c] }, ...inline(row[c] ?? '')))))),
    ),
  );
}

/** `code` spans and **bold**, the rest as text. */
function inline(text: string): Array<string | HTMLElement> {
  return text.split(/(`[^`\n]+`|\*\*[^*\n]+\*\*)/).flatMap((part): Array<string | HTMLElement> => {
    if (!part) return [];
    if (part.startsWith('`') && part.endsWith('`') && part.length > 2) return [h('code', {}, part.slice(1, -1))];
    if (part.startsWith('**') && part.endsWith('**') && part.length > 4) return [h('strong', {}, part.slice(2, -2))];
    return [part];
  });
}
