/**
 * Summarizes V8 CPU profiles (`npm run bench -- --profile` writes them to
 * test-output/bench-profiles): the functions and the packages with the most self time.
 *
 *   node bench/dist/bench/profile-summary.js <file.cpuprofile>… [--top 25] [--skip-s 10]
 *
 * `--skip-s` leaves out the first seconds of each profile (the service starting).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const herald = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (herald) return `${herald[1]}/${herald[2]}`;
  return url.startsWith('node:') ? 'node' : url.replace(/^.*\//, '');
}

function summarize(file: string, top: number, skipUs: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    elapsed += profile.timeDeltas[i] ?? 0;
    if (elapsed >= skipUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|apps|libs)\//, '$1/')}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    pkgs.set(where(url), (pkgs.get(where(url)) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => `${((us * 100) / busy).toFixed(1).padStart(5)}%`;
  console.log(`\n${file}: ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s`);
  console.log('  by package:');
  for (const [k, v] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`   ${pct(v)} ${k}`);
  console.log('  by function (self):');
  for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`   ${pct(v)} ${k}`);
}

const args = process.argv.slice(2);
const option = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
for (const file of args.filter((a) => a.endsWith('.cpuprofile'))) summarize(file, option('top', 25), option('skip-s', 0) * 1e6);
