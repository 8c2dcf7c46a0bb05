#!/usr/bin/env node
// The useChat example page (examples/use-chat/src/main.tsx), bundled with esbuild on start
// and served on EXAMPLE_PORT (default 5173) of EXAMPLE_HOST (default localhost). Prints the
// address to open, with the gateway and a token in its fragment.
//
//   CORS_ORIGINS=http://localhost:5173 npm start     # Herald, allowing this page's origin
//   npm run example:use-chat                         # then open the printed address
//
// HERALD_URL (default http://localhost:3000), HERALD_TOKEN (default: a development token for
// HERALD_USER, default "use-chat-example", signed with JWT_SECRET or the development secret).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const host = process.env.EXAMPLE_HOST ?? 'localhost';
const port = Number(process.env.EXAMPLE_PORT ?? 5173);
const herald = (process.env.HERALD_URL ?? 'http://localhost:3000').replace(/\/+$/, '');

const bundle = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
const files = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(here, 'index.html')) },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: Buffer.from(bundle.outputFiles[0].contents) },
};

const server = createServer((req, res) => {
  const file = files[new URL(req.url ?? '/', 'http://x').pathname];
  if (!file || req.method !== 'GET') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
});
server.listen(port, host, () => {
  const { port: actual } = server.address();
  const token =
    process.env.HERALD_TOKEN ??
    execFileSync(process.execPath, [join(root, 'libs/auth/dist/token.cli.js'), process.env.HERALD_USER ?? 'use-chat-example'], {
      encoding: 'utf8',
      env: { NODE_ENV: 'development', ...process.env },
    }).trim();
  const origin = `http://${host}:${actual}`;
  console.log(`use-chat example on ${origin} (the gateway's CORS_ORIGINS must list it)`);
  console.log(`open ${origin}/#gateway=${encodeURIComponent(herald)}&token=${token}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
