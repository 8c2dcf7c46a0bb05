import { loadModule, parseSync } from 'libpg-query';
import { DEMO_SCHEMA_NAME, DEMO_TABLES } from './demo-schema';

export const MAX_SQL_CHARS = 4000;
/** Longest string constant a query may hold ('North', '2025-01-01'… are far shorter). */
export const MAX_STRING_CHARS = 200;

/**
 * The functions a query may call: aggregates, window ranks, and a few scalar functions whose
 * result is no bigger than their input. Nothing that takes SQL, a regex or a file name, sleeps,
 * builds big values (repeat, string_agg, generate_series) or tells about the server.
 */
// prettier-ignore
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'row_number', 'rank', 'dense_rank', 'round', 'abs', 'ceil', 'floor',
  'lower', 'upper', 'length', 'date_trunc', 'date_part', 'extract', 'to_char',
]);

/** Binary and unary operators (by the parser's name: LIKE is ~~, ILIKE is ~~*). No ||, ^, regex. */
const OPERATORS = new Set(['=', '<>', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '~~', '!~~', '~~*', '!~~*']);
/** Casts only to plain types (no regclass & co., which read the catalog; no arrays, xml, json). */
// prettier-ignore
const TYPES = new Set([
  'int2', 'int4', 'int8', 'int', 'integer', 'smallint', 'bigint', 'numeric', 'decimal', 'float4', 'float8', 'real',
  'text', 'varchar', 'date', 'timestamp', 'bool', 'boolean', 'interval',
]);
const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid']);
// prettier-ignore
const A_EXPR_KINDS = new Set([
  'AEXPR_OP', 'AEXPR_DISTINCT', 'AEXPR_NOT_DISTINCT', 'AEXPR_NULLIF', 'AEXPR_IN', 'AEXPR_LIKE', 'AEXPR_ILIKE',
  'AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN',
]);
const STATEMENT_WORDS: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};
const SQL_VALUE_WORDS: Record<string, string> = {
  SVFOP_CURRENT_TIME: 'CURRENT_TIME',
  SVFOP_CURRENT_TIME_N: 'CURRENT_TIME',
  SVFOP_CURRENT_TIMESTAMP: 'CURRENT_TIMESTAMP',
  SVFOP_CURRENT_TIMESTAMP_N: 'CURRENT_TIMESTAMP',
  SVFOP_LOCALTIME: 'LOCALTIME',
  SVFOP_LOCALTIME_N: 'LOCALTIME',
  SVFOP_LOCALTIMESTAMP: 'LOCALTIMESTAMP',
  SVFOP_LOCALTIMESTAMP_N: 'LOCALTIMESTAMP',
  SVFOP_CURRENT_ROLE: 'CURRENT_ROLE',
  SVFOP_CURRENT_USER: 'CURRENT_USER',
  SVFOP_USER: 'USER',
  SVFOP_SESSION_USER: 'SESSION_USER',
  SVFOP_CURRENT_CATALOG: 'CURRENT_CATALOG',
  SVFOP_CURRENT_SCHEMA: 'CURRENT_SCHEMA',
};
/** Node types the parser may produce that are refused, named for the model. */
const FEATURE_NAMES: Record<string, string> = {
  A_ArrayExpr: 'ARRAY[…]',
  A_Indirection: 'Subscripts and field selection',
  RowExpr: 'ROW(…)',
  ParamRef: 'Parameters',
  CollateClause: 'COLLATE',
  XmlExpr: 'XML functions',
  XmlSerialize: 'XMLSERIALIZE',
  GroupingFunc: 'GROUPING()',
  RangeTableSample: 'TABLESAMPLE',
  RangeTableFunc: 'XMLTABLE',
  JsonTable: 'JSON_TABLE',
  MergeSupportFunc: 'MERGE_ACTION()',
};

export interface SqlVerdict {
  ok: boolean;
  /** The statement to run (trimmed, without a final semicolon) when ok. */
  sql: string;
  /** Why not, for the model to fix it and for the user to read. */
  error?: string;
}

/**
 * The first check of generated SQL, before EXPLAIN: PostgreSQL's own parser (libpg-query)
 * turns it into a parse tree, which must fit an allowlist: one SELECT (WITH, UNION, JOIN …
 * ON, subqueries, GROUP BY, ORDER BY, LIMIT allowed), reading only the demo tables, calling
 * only ALLOWED_FUNCTIONS, casting only to plain types, no system columns, no session values
 * but CURRENT_DATE, no INTO, no row locks, no comments, no quoted identifiers, only plain
 * 'quoted' strings. Anything else is refused with a reason the model can act on. The role it
 * runs as (SELECT on the demo schema only) and the read-only transaction are the second line.
 */
export async function checkSql(input: string): Promise<SqlVerdict> {
  const sql = input.trim().replace(/;\s*$/, '').trim();
  const refuse = (error: string): SqlVerdict => ({ ok: false, sql, error });
  if (!sql) return refuse('The query is empty.');
  if (sql.length > MAX_SQL_CHARS) return refuse(`The query is longer than ${MAX_SQL_CHARS} characters.`);
  // Lexical rules the parse tree does not show (it drops comments and quoting): refused
  // anywhere, string constants included, which only the demo's plain values need.
  if (sql.includes(';')) return refuse('Only one statement is allowed.');
  if (/--|\/\*/.test(sql)) return refuse('Comments are not allowed.');
  if (sql.includes('\\')) return refuse('Backslashes are not allowed.');
  if (sql.includes('$')) return refuse('Dollar quoting and parameters are not allowed.');
  if (sql.includes('"')) return refuse('Quoted identifiers are not allowed: write names in lower case, without quotes.');

  await loadSqlParser();
  let tree: { stmts?: Array<{ stmt?: unknown }> };
  try {
    tree = parseSync(sql);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/unterminated quoted string/.test(message)) return refuse('A string literal is not closed.');
    return refuse(`The query is not valid SQL: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}.`);
  }
  try {
    new SelectChecker(sql).statement(tree);
  } catch (err) {
    if (err instanceof Refusal) return refuse(err.message);
    throw err;
  }
  return { ok: true, sql };
}

let parserLoaded: Promise<void> | undefined;

/** Loads the parser's WebAssembly module once (checkSql does it on first use). */
export function loadSqlParser(): Promise<void> {
  parserLoaded ??= loadModule().catch((err: unknown) => {
    parserLoaded = undefined;
    throw err;
  });
  return parserLoaded;
}

class Refusal extends Error {}

type Obj = Record<string, unknown>;
/** A FROM item in scope: its name (alias or table), and the columns `name.column` may read. */
interface Rel {
  name?: string;
  /** The demo table it is, when not aliased (then `demo.table.column` may name it). */
  table?: string;
  columns: readonly string[];
}
/** FROM items by query level, innermost first (a subquery sees its outer queries'). */
type Scope = readonly (readonly Rel[])[];
type Ctes = ReadonlyMap<string, readonly string[]>;

const demoTableList = () =>
  Object.keys(DEMO_TABLES)
    .map((t) => `${DEMO_SCHEMA_NAME}.${t}`)
    .join(', ');
const demoColumns = (table: string) => DEMO_TABLES[table].map((c) => c.split(' ')[0]);
const functionList = () => [...ALLOWED_FUNCTIONS, 'coalesce', 'nullif', 'greatest', 'least'].join(', ');

/** Walks a raw parse tree; every node type and field it does not know is refused. */
class SelectChecker {
  private readonly bytes: Buffer;

  constructor(sql: string) {
    this.bytes = Buffer.from(sql, 'utf8'); // the parser's locations are byte offsets
  }

  statement(tree: { stmts?: Array<{ stmt?: unknown }> }): void {
    const stmts = tree.stmts ?? [];
    if (stmts.length !== 1) throw new Refusal('Only one statement is allowed.');
    const [type, body] = unwrap(stmts[0].stmt);
    if (type !== 'SelectStmt') throw new Refusal('Only SELECT queries are allowed.');
    this.select(body, [], new Map());
  }

  /** A SELECT (or UNION…) at any level; returns its output column names. */
  private select(s: Obj, outer: Scope, ctes: Ctes): string[] {
    if (s.intoClause) throw new Refusal('"INTO" is not allowed: the query may only read.');
    if (s.lockingClause)
      throw new Refusal(`"${lockWords(s.lockingClause)}" is not allowed: the query may only read, without locking rows.`);
    if (s.valuesLists) throw new Refusal('VALUES lists are not allowed: select from the demo tables.');
    // prettier-ignore
    allowKeys('SELECT', s, [
      'targetList', 'fromClause', 'whereClause', 'groupClause', 'groupDistinct', 'havingClause', 'windowClause',
      'sortClause', 'limitCount', 'limitOffset', 'limitOption', 'withClause', 'distinctClause', 'op', 'all', 'larg', 'rarg',
    ]);
    if (s.limitOption !== 'LIMIT_OPTION_DEFAULT' && s.limitOption !== 'LIMIT_OPTION_COUNT')
      throw new Refusal('FETCH … WITH TIES is not allowed: use LIMIT.');

    let scopeCtes = ctes;
    if (s.withClause) {
      const w = s.withClause as Obj;
      if (w.recursive) throw new Refusal('WITH RECURSIVE is not allowed.');
      allowKeys('WITH', w, ['ctes', 'location']);
      for (const node of list(w.ctes)) {
        const [type, cte] = unwrap(node);
        if (type !== 'CommonTableExpr') throw unknownNode(type);
        allowKeys('WITH', cte, ['ctename', 'aliascolnames', 'ctematerialized', 'ctequery', 'location']);
        const [queryType, query] = unwrap(cte.ctequery);
        if (queryType !== 'SelectStmt')
          throw new Refusal(`"${STATEMENT_WORDS[queryType] ?? queryType}" is not allowed in a WITH query: only SELECT.`);
        const columns = renamed(this.select(query, outer, scopeCtes), cte.aliascolnames);
        scopeCtes = new Map(scopeCtes).set(String(cte.ctename), columns);
      }
    }

    // Every field allowed above is walked on one of the two paths below (a UNION's branches
    // hold their own select lists, FROM and WHERE): a field the path does not walk is refused.
    const setOp = s.op !== undefined && s.op !== 'SETOP_NONE';
    const onTheOtherPath = setOp
      ? ['targetList', 'fromClause', 'whereClause', 'groupClause', 'havingClause', 'windowClause', 'distinctClause']
      : ['larg', 'rarg'];
    if (onTheOtherPath.some((key) => s[key] !== undefined)) throw new Refusal('The query has an unexpected shape.');
    if (setOp) {
      if (!s.larg || !s.rarg) throw new Refusal('The query has an unexpected shape.');
      const columns = this.select(s.larg as Obj, outer, scopeCtes);
      this.select(s.rarg as Obj, outer, scopeCtes);
      for (const sort of list(s.sortClause)) this.sortBy(sort, outer, scopeCtes);
      for (const e of [s.limitCount, s.limitOffset]) if (e) this.expr(e, outer, scopeCtes);
      return columns;
    }

    const from = list(s.fromClause);
    if (from.length > 1) throw new Refusal('Use JOIN … ON instead of comma-separated tables.');
    const rels: Rel[] = [];
    const scope: Scope = [rels, ...outer];
    for (const item of from) this.fromItem(item, outer, scopeCtes, rels);

    const columns: string[] = [];
    for (const node of list(s.targetList)) {
      const [type, target] = unwrap(node);
      if (type !== 'ResTarget') throw unknownNode(type);
      allowKeys('a select list', target, ['name', 'val', 'location']);
      this.expr(target.val, scope, scopeCtes);
      columns.push(...(target.name ? [String(target.name)] : outputNames(target.val, rels)));
    }
    for (const e of [s.whereClause, s.havingClause, s.limitCount, s.limitOffset]) if (e) this.expr(e, scope, scopeCtes);
    for (const node of list(s.distinctClause)) if (Object.keys(node as Obj).length) this.expr(node, scope, scopeCtes); // DISTINCT alone is [{}]
    for (const node of list(s.groupClause)) {
      const [type, body] = unwrap(node);
      if (type !== 'GroupingSet') {
        this.expr(node, scope, scopeCtes);
        continue;
      }
      allowKeys('GROUP BY', body, ['kind', 'content', 'location']);
      if (body.kind !== 'GROUPING_SET_ROLLUP') throw new Refusal('Only ROLLUP is allowed among grouping sets.');
      for (const e of list(body.content)) this.expr(e, scope, scopeCtes);
    }
    for (const sort of list(s.sortClause)) this.sortBy(sort, scope, scopeCtes);
    for (const node of list(s.windowClause)) {
      const [type, def] = unwrap(node);
      if (type !== 'WindowDef') throw unknownNode(type);
      this.windowDef(def, scope, scopeCtes);
    }
    return columns;
  }

  /** A FROM item: demo tables, CTEs, subqueries and JOIN … ON/USING of them; adds them to rels. */
  private fromItem(node: unknown, outer: Scope, ctes: Ctes, rels: Rel[]): void {
    const [type, item] = unwrap(node);
    switch (type) {
      case 'RangeVar': {
        allowKeys('FROM', item, ['schemaname', 'relname', 'inh', 'relpersistence', 'alias', 'location']);
        const schema = item.schemaname as string | undefined;
        const table = String(item.relname);
        const alias = this.alias(item.alias);
        const cte = schema ? undefined : ctes.get(table);
        if (cte) {
          rels.push({ name: alias?.name ?? table, columns: renamed(cte, alias?.columns) });
        } else if ((schema ?? DEMO_SCHEMA_NAME) === DEMO_SCHEMA_NAME && Object.hasOwn(DEMO_TABLES, table)) {
          rels.push({ name: alias?.name ?? table, table: alias ? undefined : table, columns: renamed(demoColumns(table), alias?.columns) });
        } else {
          const named = schema ? `${schema}.${table}` : table;
          const why = schema && schema !== DEMO_SCHEMA_NAME ? `the schema "${schema}" is not allowed; ` : '';
          throw new Refusal(`Unknown table "${named}": ${why}the tables are ${demoTableList()}.`);
        }
        return;
      }
      case 'RangeSubselect': {
        if (item.lateral) throw new Refusal('LATERAL is not allowed.');
        allowKeys('FROM', item, ['subquery', 'alias']);
        const [subType, sub] = unwrap(item.subquery);
        if (subType !== 'SelectStmt') throw new Refusal('Only SELECT subqueries are allowed.');
        const alias = this.alias(item.alias);
        rels.push({ name: alias?.name, columns: renamed(this.select(sub, outer, ctes), alias?.columns) });
        return;
      }
      case 'JoinExpr': {
        if (item.isNatural) throw new Refusal('NATURAL JOIN is not allowed: use JOIN … ON.');
        if (item.alias || item.join_using_alias) throw new Refusal('An alias on a JOIN is not allowed: alias its tables instead.');
        allowKeys('JOIN', item, ['jointype', 'larg', 'rarg', 'quals', 'usingClause', 'location']);
        if (!['JOIN_INNER', 'JOIN_LEFT', 'JOIN_RIGHT', 'JOIN_FULL'].includes(String(item.jointype)))
          throw new Refusal('Only INNER, LEFT, RIGHT and FULL joins are allowed.');
        if (!item.quals && !item.usingClause) throw new Refusal('Every JOIN needs ON or USING: CROSS JOIN is not allowed.');
        this.fromItem(item.larg, outer, ctes, rels);
        this.fromItem(item.rarg, outer, ctes, rels);
        names(item.usingClause);
        if (item.quals) this.expr(item.quals, [rels, ...outer], ctes);
        return;
      }
      case 'RangeFunction': {
        const called = findFunctionNames(item);
        throw new Refusal(
          called.length
            ? `"${called[0]}" is not allowed: functions may not be used in FROM; the tables are ${demoTableList()}.`
            : `Functions may not be used in FROM; the tables are ${demoTableList()}.`,
        );
      }
      default:
        throw unknownNode(type);
    }
  }

  private alias(value: unknown): { name: string; columns?: unknown } | undefined {
    if (!value) return undefined;
    const alias = value as Obj;
    allowKeys('an alias', alias, ['aliasname', 'colnames']);
    names(alias.colnames);
    return { name: String(alias.aliasname), columns: alias.colnames };
  }

  private sortBy(node: unknown, scope: Scope, ctes: Ctes): void {
    const [type, sort] = unwrap(node);
    if (type !== 'SortBy') throw unknownNode(type);
    if (sort.useOp) throw new Refusal('ORDER BY … USING is not allowed: use ASC or DESC.');
    allowKeys('ORDER BY', sort, ['node', 'sortby_dir', 'sortby_nulls', 'location']);
    this.expr(sort.node, scope, ctes);
  }

  private windowDef(def: Obj, scope: Scope, ctes: Ctes): void {
    allowKeys('a window', def, [
      'name',
      'refname',
      'partitionClause',
      'orderClause',
      'frameOptions',
      'startOffset',
      'endOffset',
      'location',
    ]);
    for (const e of list(def.partitionClause)) this.expr(e, scope, ctes);
    for (const sort of list(def.orderClause)) this.sortBy(sort, scope, ctes);
    for (const e of [def.startOffset, def.endOffset]) if (e) this.expr(e, scope, ctes);
  }

  private expr(node: unknown, scope: Scope, ctes: Ctes): void {
    const [type, e] = unwrap(node);
    const sub = (n: unknown): void => {
      if (n !== undefined) this.expr(n, scope, ctes);
    };
    switch (type) {
      case 'ColumnRef':
        allowKeys('a column', e, ['fields', 'location']);
        return this.columnRef(list(e.fields), scope);
      case 'A_Const':
        return this.constant(e);
      case 'TypeCast':
        allowKeys('a cast', e, ['arg', 'typeName', 'location']);
        this.typeName(e.typeName as Obj);
        return sub(e.arg);
      case 'FuncCall':
        return this.funcCall(e, scope, ctes);
      case 'A_Expr': {
        allowKeys('an expression', e, ['kind', 'name', 'lexpr', 'rexpr', 'location']);
        const op = names(e.name).join('.');
        const between = String(e.kind).includes('BETWEEN'); // named "BETWEEN", "NOT BETWEEN"
        if (!A_EXPR_KINDS.has(String(e.kind)) || (!between && !OPERATORS.has(op)))
          throw new Refusal(`The operator "${op}" is not allowed: use = <> < > <= >= + - * / %, LIKE, ILIKE, IN, BETWEEN.`);
        sub(e.lexpr);
        if (e.rexpr === undefined) return;
        const [rtype, r] = unwrap(e.rexpr);
        if (rtype === 'List') return list(r.items).forEach(sub);
        return sub(e.rexpr);
      }
      case 'BoolExpr':
        allowKeys('AND/OR/NOT', e, ['boolop', 'args', 'location']);
        return list(e.args).forEach(sub);
      case 'NullTest':
        allowKeys('IS NULL', e, ['arg', 'nulltesttype', 'location']);
        return sub(e.arg);
      case 'BooleanTest':
        allowKeys('IS TRUE', e, ['arg', 'booltesttype', 'location']);
        return sub(e.arg);
      case 'CaseExpr':
        allowKeys('CASE', e, ['arg', 'args', 'defresult', 'location']);
        sub(e.arg);
        for (const w of list(e.args)) {
          const [wtype, when] = unwrap(w);
          if (wtype !== 'CaseWhen') throw unknownNode(wtype);
          allowKeys('CASE', when, ['expr', 'result', 'location']);
          sub(when.expr);
          sub(when.result);
        }
        return sub(e.defresult);
      case 'CoalesceExpr':
      case 'MinMaxExpr':
        allowKeys('COALESCE/GREATEST/LEAST', e, ['args', 'op', 'location']);
        return list(e.args).forEach(sub);
      case 'SubLink': {
        allowKeys('a subquery', e, ['subLinkType', 'testexpr', 'operName', 'subselect', 'location']);
        if (!['EXISTS_SUBLINK', 'ANY_SUBLINK', 'ALL_SUBLINK', 'EXPR_SUBLINK'].includes(String(e.subLinkType)))
          throw new Refusal('Only EXISTS, IN, ANY, ALL and scalar subqueries are allowed.');
        const op = names(e.operName).join('.');
        if (op && !OPERATORS.has(op)) throw new Refusal(`The operator "${op}" is not allowed.`);
        sub(e.testexpr);
        const [selType, sel] = unwrap(e.subselect);
        if (selType !== 'SelectStmt') throw new Refusal('Only SELECT subqueries are allowed.');
        this.select(sel, scope, ctes);
        return;
      }
      case 'SQLValueFunction':
        allowKeys('a session value', e, ['op', 'typmod', 'location']);
        if (e.op !== 'SVFOP_CURRENT_DATE')
          throw new Refusal(`"${SQL_VALUE_WORDS[String(e.op)] ?? e.op}" is not allowed: of the session's values only CURRENT_DATE is.`);
        return;
      default:
        throw unknownNode(type);
    }
  }

  private columnRef(fields: unknown[], scope: Scope): void {
    const parts = fields.map((f) => {
      const [type, body] = unwrap(f);
      if (type === 'A_Star') return '*';
      if (type !== 'String') throw unknownNode(type);
      return String(body.sval);
    });
    const column = parts[parts.length - 1];
    if (SYSTEM_COLUMNS.has(column)) throw new Refusal(`The system column "${column}" is not allowed.`);
    if (parts.length === 1) return; // a column (or a whole row) by name: Postgres resolves it, never to a function
    if (parts.length > 3 || (parts.length === 3 && parts[0] !== DEMO_SCHEMA_NAME))
      throw new Refusal(`"${parts.join('.')}" is not allowed: name columns as column or alias.column.`);
    // alias.column must be a column of alias: Postgres would read alias.f as f(alias) otherwise.
    const [qualifier, table] = parts.length === 3 ? [undefined, parts[1]] : [parts[0], undefined];
    const rel = scope
      .map((level) => level.find((r) => (qualifier !== undefined ? r.name === qualifier : r.table === table)))
      .find((r) => r !== undefined);
    const shown = parts.slice(0, -1).join('.');
    if (!rel) throw new Refusal(`"${shown}" in "${parts.join('.')}" is not a table or alias of the query.`);
    if (column !== '*' && !rel.columns.includes(column)) {
      const known = rel.columns.filter((c) => c !== '?column?');
      throw new Refusal(
        `Unknown column "${parts.join('.')}": ${known.length ? `the columns of ${shown} are ${known.join(', ')}` : `${shown} has no named columns`} (name expressions with AS).`,
      );
    }
  }

  private constant(c: Obj): void {
    if (c.bsval !== undefined) throw new Refusal("Bit-string constants are not allowed: use plain 'quoted' strings or numbers.");
    allowKeys('a constant', c, ['ival', 'fval', 'sval', 'boolval', 'isnull', 'location']);
    if (c.fval !== undefined) {
      const text = String((c.fval as Obj).fval);
      // (\d*(?:\.\d*)? rather than \d*\.?\d*, whose two \d* could split a run of digits every way.)
      if (text.length > 40 || !/^\d*(?:\.\d*)?(?:e[+-]?\d{1,2})?$/i.test(text))
        throw new Refusal(`The number ${text.slice(0, 40)} is too large.`);
    }
    if (c.sval !== undefined) {
      const text = String((c.sval as Obj).sval);
      if (this.bytes[Number(c.location)] !== 0x27)
        throw new Refusal("Only plain 'quoted' strings are allowed (no E'…', U&'…', N'…' or dollar quoting).");
      if (text.length > MAX_STRING_CHARS) throw new Refusal(`String constants are limited to ${MAX_STRING_CHARS} characters.`);
    }
  }

  private typeName(t: Obj): void {
    if (t.arrayBounds) throw new Refusal('Array types are not allowed.');
    allowKeys('a type', t, ['names', 'typmods', 'typemod', 'location']);
    const parts = names(t.names);
    const name = parts.length === 2 && parts[0] === 'pg_catalog' ? parts[1] : parts.length === 1 ? parts[0] : undefined;
    if (!name || !TYPES.has(name))
      throw new Refusal(
        `The type "${parts.join('.')}" is not allowed: cast only to int, bigint, numeric, real, text, varchar, date, timestamp, interval or boolean.`,
      );
    for (const m of list(t.typmods)) {
      const [type, c] = unwrap(m);
      if (type !== 'A_Const' || c.ival === undefined) throw new Refusal('Type modifiers must be numbers.');
    }
  }

  private funcCall(f: Obj, scope: Scope, ctes: Ctes): void {
    const parts = names(f.funcname);
    // pg_catalog.extract & co. are what the parser makes of SQL syntax (EXTRACT(year FROM x)).
    const name = parts.length === 1 ? parts[0] : parts[0] === 'pg_catalog' && f.funcformat === 'COERCE_SQL_SYNTAX' ? parts[1] : undefined;
    if (!name) throw new Refusal(`"${parts.join('.')}" is not allowed: call functions without a schema.`);
    if (!ALLOWED_FUNCTIONS.has(name)) throw new Refusal(`"${name}" is not allowed: the functions are ${functionList()}.`);
    if (f.agg_within_group) throw new Refusal('WITHIN GROUP is not allowed.');
    if (f.func_variadic) throw new Refusal('VARIADIC is not allowed.');
    allowKeys('a function call', f, [
      'funcname',
      'args',
      'agg_order',
      'agg_filter',
      'over',
      'agg_star',
      'agg_distinct',
      'funcformat',
      'location',
    ]);
    const args = list(f.args);
    // The unit or format: a short constant (to_char's output grows with its format).
    const constantArg = name === 'to_char' ? args[1] : name === 'date_trunc' || name === 'date_part' ? args[0] : undefined;
    if (constantArg !== undefined) {
      const [type, c] = unwrap(constantArg);
      if (type !== 'A_Const' || c.sval === undefined || String((c.sval as Obj).sval).length > 32)
        throw new Refusal(`${name}'s ${name === 'to_char' ? 'format' : 'unit'} must be a short 'quoted' string.`);
    }
    args.forEach((a, i) => {
      // EXTRACT(year FROM x): the parser makes the bare word a string constant.
      if (name === 'extract' && i === 0) {
        const [type, c] = unwrap(a);
        if (type === 'A_Const' && /^[a-z_]+$/.test(String((c.sval as Obj | undefined)?.sval))) return;
      }
      this.expr(a, scope, ctes);
    });
    for (const sort of list(f.agg_order)) this.sortBy(sort, scope, ctes);
    if (f.agg_filter) this.expr(f.agg_filter, scope, ctes);
    if (f.over) this.windowDef(f.over as Obj, scope, ctes);
  }
}

/** `{ Type: body }` → [Type, body]. */
function unwrap(node: unknown): [string, Obj] {
  if (!node || typeof node !== 'object') throw new Refusal('The query has an unexpected shape.');
  const keys = Object.keys(node);
  if (keys.length !== 1) throw new Refusal('The query has an unexpected shape.');
  return [keys[0], (node as Obj)[keys[0]] as Obj];
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Refusal('The query has an unexpected shape.');
  return value;
}

/** A list of String nodes (names, operators) as strings. */
function names(value: unknown): string[] {
  return list(value).map((n) => {
    const [type, body] = unwrap(n);
    if (type !== 'String') throw unknownNode(type);
    return String(body.sval);
  });
}

function allowKeys(where: string, body: Obj, allowed: readonly string[]): void {
  for (const key of Object.keys(body))
    if (!allowed.includes(key))
      throw new Refusal(`"${key}" is not allowed in ${where}: keep to plain SELECT … FROM … JOIN … WHERE … GROUP BY … ORDER BY … LIMIT.`);
}

function unknownNode(type: string): Refusal {
  const known = FEATURE_NAMES[type];
  if (known) return new Refusal(`${known} ${known.endsWith('s') ? 'are' : 'is'} not allowed.`);
  if (STATEMENT_WORDS[type]) return new Refusal(`"${STATEMENT_WORDS[type]}" is not allowed: only SELECT queries are.`);
  return new Refusal(
    `This part of the query (${type}) is not allowed: use columns, constants, operators, CASE, subqueries and the functions ${functionList()}.`,
  );
}

function lockWords(clauses: unknown): string {
  const [, clause] = unwrap(list(clauses)[0]);
  const strength = String(clause.strength);
  return strength === 'LCS_FORKEYSHARE'
    ? 'FOR KEY SHARE'
    : strength === 'LCS_FORSHARE'
      ? 'FOR SHARE'
      : strength === 'LCS_FORNOKEYUPDATE'
        ? 'FOR NO KEY UPDATE'
        : 'FOR UPDATE';
}

/** Column aliases (`AS t(a, b)`) replace the first names. */
function renamed(columns: readonly string[], aliases: unknown): string[] {
  const given = names(aliases);
  return [...given, ...columns.slice(given.length)];
}

/**
 * The name Postgres gives a select-list item without AS (its FigureColname), only where it is
 * sure; anything else is "?column?", which no unquoted name can match, so the query must alias it.
 */
function outputNames(node: unknown, rels: readonly Rel[]): string[] {
  const [type, e] = unwrap(node);
  switch (type) {
    case 'ColumnRef': {
      const parts = list(e.fields).map((f) => unwrap(f));
      const [lastType, last] = parts[parts.length - 1];
      if (lastType !== 'A_Star') return [String(last.sval)];
      if (parts.length === 1) return rels.flatMap((r) => r.columns);
      const qualifier = String(parts[parts.length - 2][1].sval);
      return rels.find((r) => r.name === qualifier || r.table === qualifier)?.columns.slice() ?? [];
    }
    case 'FuncCall': {
      const parts = names(e.funcname);
      return [parts[parts.length - 1]];
    }
    case 'TypeCast': {
      // Postgres names it after a column or function it casts, after the type when it casts a
      // constant, and otherwise after whatever its argument is named: only the first two here.
      const [argType] = unwrap(e.arg);
      if (argType === 'ColumnRef' || argType === 'FuncCall') return outputNames(e.arg, rels);
      if (argType !== 'A_Const') return ['?column?'];
      const parts = names((e.typeName as Obj).names);
      return [parts[parts.length - 1]];
    }
    case 'CoalesceExpr':
      return ['coalesce'];
    case 'MinMaxExpr':
      return [e.op === 'IS_GREATEST' ? 'greatest' : 'least'];
    case 'SQLValueFunction':
      return ['current_date'];
    default:
      return ['?column?'];
  }
}

function findFunctionNames(node: unknown): string[] {
  if (!node || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap(findFunctionNames);
  const obj = node as Obj;
  if (obj.FuncCall) {
    const parts = list((obj.FuncCall as Obj).funcname).map((n) => String((n as { String?: Obj }).String?.sval));
    return [parts[parts.length - 1]];
  }
  return Object.values(obj).flatMap(findFunctionNames);
}
