/**
 * One naming scheme for source files, as a local ESLint rule (no maintained plugin matches a
 * file to its export for ESLint 10 and Nest's suffixes):
 *  - the dotted role after the name says what kind of thing the file holds, one role per kind:
 *    Nest's own kinds (`.module`, `.controller`, `.gateway`, `.guard`, `.interceptor`,
 *    `.filter`, `.middleware`, `.decorator`), `.service` for every other injectable provider
 *    (`.repository` when it wraps a TypeORM repository), `.migration`, `.cli`, and the tests'
 *    roles; a plain module (functions, constants, a class Nest does not create) has no role;
 *  - a file that holds a Nest building block carries its role, and a role promises one;
 *  - a file that exports a class is named after one of them (`RunAdmission` or
 *    `RunAdmissionService` in `run-admission.service.ts`), one that exports a single function
 *    after it; a module of several exported names is named for their subject (`events.ts`).
 */

/** The role a file holding each kind of Nest building block carries (one of them). */
const NEST_ROLES = {
  Module: ['module'],
  Controller: ['controller'],
  WebSocketGateway: ['gateway'],
  Catch: ['filter'],
  // Providers: `.service` unless a more specific kind says what drives them.
  Injectable: ['service', 'repository', 'guard', 'interceptor', 'middleware', 'listener', 'worker', 'handler'],
};
/** Roles that promise a Nest building block (a `.service.ts` always holds a provider). */
const PROMISING_ROLES = new Set([
  'module',
  'controller',
  'gateway',
  'filter',
  'service',
  'repository',
  'guard',
  'interceptor',
  'listener',
  'worker',
  'handler',
]);
/** Every role a file may carry: one per kind of thing. */
const ROLES = new Set([
  ...Object.values(NEST_ROLES).flat(),
  // Socket.IO middleware functions and Nest parameter decorators
  'decorator',
  // TypeORM entities and migrations, agent definitions, error classes, Nest injection tokens,
  // zod schemas, type-only modules, prompt texts, wire codecs and parsers, the Socket.IO
  // adapter, JetStream consumer set-up, a CLI entry point
  'entity',
  'migration',
  'agent',
  'error',
  'tokens',
  'schemas',
  'types',
  'prompts',
  'codec',
  'parser',
  'adapter',
  'consumer',
  'cli',
  // tests
  'spec',
  'test',
  'e2e',
  'chaos',
]);

const squash = (s) => s.replace(/[^a-z]/gi, '').toLowerCase();

function decoratorNames(cls) {
  return (cls.decorators ?? []).map((d) => {
    const e = d.expression.type === 'CallExpression' ? d.expression.callee : d.expression;
    return e.type === 'Identifier' ? e.name : undefined;
  });
}

function declarationOf(node) {
  return node.type === 'ExportNamedDeclaration' || node.type === 'ExportDefaultDeclaration' ? node.declaration : node;
}

const rule = {
  meta: {
    type: 'suggestion',
    docs: { description: 'a file is named after what it exports, with one role suffix per kind' },
    schema: [],
    messages: {
      unknownRole: "'.{{role}}' is not one of the roles in tools/eslint/file-names.mjs",
      missingRole: 'this file holds a Nest @{{decorator}} class: its name ends in {{roles}}',
      emptyRole: "'.{{role}}' promises a Nest building block of that kind, and this file declares none",
      classMismatch: 'a file exporting one class is named after it or one of its exported functions ({{names}})',
      functionMismatch: 'a file exporting one function is named after it or a type it exports ({{name}})',
    },
  },
  create(context) {
    const file = context.filename.split(/[\\/]/).pop();
    const parts = file.replace(/\.(m|c)?[jt]s$/, '').split('.');
    const stem = parts[0];
    const roles = parts.slice(1);
    if (['index', 'main'].includes(stem)) return {};
    return {
      Program(program) {
        for (const role of roles) {
          if (!ROLES.has(role)) context.report({ node: program, messageId: 'unknownRole', data: { role } });
        }
        if (roles.some((r) => ['spec', 'test', 'e2e', 'chaos', 'cli', 'migration'].includes(r))) return;
        const declarations = program.body.map(declarationOf).filter(Boolean);
        const nest = declarations
          .filter((d) => d.type === 'ClassDeclaration')
          .flatMap((cls) => decoratorNames(cls).filter((name) => name in NEST_ROLES));
        if (nest.length > 0 && !nest.some((name) => roles.some((r) => NEST_ROLES[name].includes(r)))) {
          const name = nest[0];
          context.report({
            node: program,
            messageId: 'missingRole',
            data: { decorator: name, roles: NEST_ROLES[name].map((r) => `.${r}.ts`).join(', ') },
          });
        }
        const promised = roles.find((r) => PROMISING_ROLES.has(r));
        if (promised && nest.length === 0) context.report({ node: program, messageId: 'emptyRole', data: { role: promised } });

        const exported = program.body
          .filter((n) => n.type === 'ExportNamedDeclaration' || n.type === 'ExportDefaultDeclaration')
          .map((n) => n.declaration)
          .filter(Boolean);
        const named = (type) => exported.filter((d) => d.type === type && d.id).map((d) => d.id.name);
        const classes = named('ClassDeclaration');
        const functions = named('FunctionDeclaration');
        const want = squash(stem);
        const matches = (names) => names.some((n) => squash(n).includes(want));
        if (classes.length === 1 && !matches([...classes, ...functions])) {
          context.report({ node: program, messageId: 'classMismatch', data: { names: [...classes, ...functions].join(', ') } });
        }
        const values = exported.filter((d) => d.type === 'VariableDeclaration');
        const types = [...named('TSInterfaceDeclaration'), ...named('TSTypeAliasDeclaration')];
        if (classes.length === 0 && functions.length === 1 && values.length === 0 && !matches([...functions, ...types])) {
          context.report({ node: program, messageId: 'functionMismatch', data: { name: functions[0] } });
        }
      },
    };
  },
};

export default { meta: { name: 'herald-file-names' }, rules: { 'file-name-matches-export': rule } };
