import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * Bundles the stdio test MCP server (stdio-main.ts) to one CommonJS file Node runs as is, its
 * packages left to node_modules (the file lives under node_modules/.cache, so they resolve).
 * Returns its path: MCP_SERVERS' `{ "command": process.execPath, "args": [path] }`.
 */
export async function buildStdioMcpServer(): Promise<string> {
  const outdir = join(ROOT, 'node_modules', '.cache', 'herald');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `test-mcp-server-${process.pid}.cjs`);
  await build({
    entryPoints: [join(__dirname, 'stdio-main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}
