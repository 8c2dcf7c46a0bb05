// ESLint (flat config): regular expressions that can take super-linear time, and promises
// that nobody awaits or handles. `npm run lint` runs it with --max-warnings 0.
import { defineConfig, globalIgnores } from 'eslint/config';
import checkFile from 'eslint-plugin-check-file';
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';
import fileNames from './tools/eslint/file-names.mjs';

/** What is linted: every source, test, benchmark, tool and script of the workspace. */
const SOURCES = ['apps/*/src', 'apps/gateway/public/src', 'libs/*/src', 'test', 'bench', 'tools', 'scripts'];

export default defineConfig(
  globalIgnores(['**/dist/', '**/node_modules/', 'apps/gateway/public/dist/', 'bench/results/', 'test-output/', 'coverage/']),
  {
    name: 'herald/sources',
    files: SOURCES.map((dir) => `${dir}/**/*.{ts,mts,cts,js,mjs,cjs}`),
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        // Type information from each file's nearest tsconfig.json; the few plain JavaScript
        // scripts and tools, in no tsconfig, get a default project.
        projectService: { allowDefaultProject: ['scripts/*.js', 'tools/*.mjs', 'tools/api-docs/*.mjs', 'tools/eslint/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'check-file': checkFile },
    extends: [regexp.configs['flat/recommended']],
    rules: {
      // A regular expression that backtracks (or, moved across the input, rescans) super-linearly
      // lets one crafted string stall the process: every pattern here runs on user input or
      // could come to. Fixes: a linear pattern, or plain string scanning. Default options: only
      // certain cases (report: 'potential' adds /\s+/-style split patterns that are linear in
      // practice), sticky patterns and fragments used through .source are not analysed, and
      // neither is anything built with new RegExp(...). Quiet enough to stay on everywhere.
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',

      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',

      // One naming scheme: kebab-case files and folders (digits allowed, for migrations), with
      // dotted roles after the name (`run-admission.service.ts`, `sql-guard.spec.ts`, `migrate.cli.ts`).
      'check-file/filename-naming-convention': [
        'error',
        { '**/*.{ts,mts,cts,js,mjs,cjs}': '+([a-z0-9])*(-+([a-z0-9]))' },
        { ignoreMiddleExtensions: true },
      ],
      'check-file/folder-naming-convention': ['error', { '**/': 'KEBAB_CASE' }],
    },
  },
  {
    // A file is named after what it exports, with one role suffix per kind of Nest building
    // block (`.service.ts` for every provider without a more specific kind): see
    // tools/eslint/file-names.mjs and the README's Scripts section.
    name: 'herald/file-names',
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    plugins: { herald: fileNames },
    rules: { 'herald/file-name-matches-export': 'error' },
  },
);
