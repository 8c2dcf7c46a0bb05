import { DEMO_SCHEMA_NAME, DEMO_TABLES } from './demo-schema';

export const MAX_SQL_CHARS = 4000;

/** Statements and clauses that write, lock, change settings or leave the query. */
// prettier-ignore
const FORBIDDEN_WORDS = [
  'insert', 'update', 'delete', 'merge', 'upsert', 'drop', 'alter', 'create', 'truncate', 'grant', 'revoke', 'copy',
  'call', 'do', 'execute', 'prepare', 'deallocate', 'lock', 'vacuum', 'analyze', 'cluster', 'reindex', 'refresh',
  'set', 'reset', 'listen', 'notify', 'unlisten', 'into', 'comment', 'security', 'begin', 'commit', 'rollback',
  'savepoint', 'import', 'load', 'discard', 'checkpoint', 'information_schema', 'public', 'current_setting',
  'set_config', 'dblink', 'query_to_xml', 'table_to_xml', 'cursor_to_xml', 'current_user', 'session_user', 'version',
];
const FORBIDDEN_RE = new RegExp(`\\b(?:${FORBIDDEN_WORDS.join('|')})\\b`, 'i');
/** System catalogs and their functions (pg_sleep, pg_read_file...), large objects. */
const SYSTEM_RE = /\b(?:pg_\w*|lo_\w+)\b/i;
const LOCKING_RE = /\bfor\s+(?:update|share|no\s+key|key)\b/i;

export interface SqlVerdict {
  ok: boolean;
  /** The statement to run (trimmed, without a final semicolon) when ok. */
  sql: string;
  /** Why not, for the model to fix it and for the user to read. */
  error?: string;
}

/**
 * The first check of generated SQL, before EXPLAIN: exactly one SELECT (or WITH … SELECT)
 * statement, no comments, nothing that writes, locks or changes settings, no system
 * catalogs or functions, and only the demo schema's tables after FROM and JOIN. The role it
 * runs as (SELECT on `demo` only) and the read-only transaction are the second line.
 */
export function checkSql(input: string): SqlVerdict {
  const sql = input.trim().replace(/;\s*$/, '').trim();
  const refuse = (error: string): SqlVerdict => ({ ok: false, sql, error });
  if (!sql) return refuse('The query is empty.');
  if (sql.length > MAX_SQL_CHARS) return refuse(`The query is longer than ${MAX_SQL_CHARS} characters.`);
  if (sql.includes(';')) return refuse('Only one statement is allowed.');
  if (/--|\/\*/.test(sql)) return refuse('Comments are not allowed.');
  if (/\\/.test(sql)) return refuse('Backslashes are not allowed.');
  if (/\$/.test(sql)) return refuse('Dollar quoting and parameters are not allowed.');
  if (!/^(select|with)\b/i.test(sql)) return refuse('Only SELECT queries are allowed.');
  const code = sql.replace(/'(?:[^']|'')*'/g, "''"); // string literals cannot hide keywords
  if (/'/.test(code.replace(/''/g, ''))) return refuse('A string literal is not closed.');
  if (/"/.test(code)) return refuse('Quoted identifiers are not allowed.');
  const forbidden = FORBIDDEN_RE.exec(code) ?? SYSTEM_RE.exec(code) ?? LOCKING_RE.exec(code);
  if (forbidden) return refuse(`"${forbidden[0]}" is not allowed: the query may only read the ${DEMO_SCHEMA_NAME} tables.`);

  const ctes = new Set([...code.matchAll(/(?:\bwith|,)\s+(\w+)\s+as\s*\(/gi)].map((m) => m[1].toLowerCase()));
  for (const m of code.matchAll(/\b(?:from|join)\s+([\w.]+)/gi)) {
    const name = m[1].toLowerCase();
    const [schema, table] = name.includes('.') ? name.split('.', 2) : [DEMO_SCHEMA_NAME, name];
    const known = schema === DEMO_SCHEMA_NAME && (table in DEMO_TABLES || (!name.includes('.') && ctes.has(table)));
    if (!known)
      return refuse(
        `Unknown table "${m[1]}": the tables are ${Object.keys(DEMO_TABLES)
          .map((t) => `${DEMO_SCHEMA_NAME}.${t}`)
          .join(', ')}.`,
      );
  }
  if (/\bfrom\s+[\w.]+(?:\s+(?:as\s+)?\w+)?\s*,/i.test(code)) return refuse('Use JOIN … ON instead of comma-separated tables.');
  return { ok: true, sql };
}
