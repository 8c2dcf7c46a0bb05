#!/usr/bin/env node
// npm run build:web: the web client of apps/gateway/public, bundled for the browser with
// libs/client (and socket.io-client) into apps/gateway/public/dist/, which the gateway serves
// at `/`. Type-checks the page's TypeScript first (incremental), then bundles with esbuild.
// `--no-check` skips the type-check (esbuild alone takes well under a second).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'apps/gateway/public');
const out = join(web, 'dist');
const started = Date.now();

if (!process.argv.includes('--no-check')) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(web, 'tsconfig.json')], { stdio: 'inherit' });
}

mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(web, 'src/main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  metafile: true,
  legalComments: 'linked',
  alias: { '@herald/client': join(root, 'libs/client/src/index.ts') },
  logLevel: 'warning',
});

// The page imports only types from @herald/contracts: the bundle must not carry zod or Node code.
const leaked = Object.keys(result.metafile.inputs).filter((input) => /node_modules\/zod\/|libs\/contracts\//.test(input));
if (leaked.length) {
  console.error(`build:web: the browser bundle pulled in server code:\n  ${leaked.join('\n  ')}`);
  process.exit(1);
}
for (const file of ['index.html', 'app.css']) copyFileSync(join(web, file), join(out, file));

const bytes = result.metafile.outputs[relative(process.cwd(), join(out, 'app.js'))]?.bytes;
console.log(
  `build:web: ${relative(root, out)}/ (app.js ${bytes ? `${Math.round(bytes / 1024)} KiB` : 'written'}) in ${Date.now() - started} ms`,
);
