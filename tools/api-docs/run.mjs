#!/usr/bin/env node
// npm run docs:api: bundles the TypeScript generator (with libs/contracts from source) for
// Node with esbuild and runs it. No TypeScript runtime needed; takes about a second.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outdir = join(root, 'node_modules', '.cache', 'herald');
mkdirSync(outdir, { recursive: true });
const outfile = join(outdir, 'write-api-docs.cjs');
await build({
  entryPoints: [join(here, 'write-api-docs.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  packages: 'external',
  alias: { '@herald/contracts': join(root, 'libs/contracts/src/index.ts') },
  // The generator finds package.json and docs/ from its own location: keep it.
  define: { __dirname: JSON.stringify(here) },
  logLevel: 'warning',
});
createRequire(import.meta.url)(outfile);
