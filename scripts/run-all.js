// Runs the four services as child processes (one gateway, one orchestrator, one worker,
// one persistence), prefixes their log lines, prints the URL and a dev token, and stops
// them all on Ctrl-C. Each service can also run alone: npm run start:<app>.
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const root = path.resolve(__dirname, '..');
const apps = ['persistence', 'worker', 'orchestrator', 'gateway'];
const colors = { persistence: 35, worker: 33, orchestrator: 34, gateway: 32 };
// Services log JSON lines; on a terminal they are shown readable (time, level, message, then
// the fields), unless LOG_FORMAT=json asks for them as they are (for jq, or a log shipper).
const pretty =
  process.stdout.isTTY && process.env.LOG_FORMAT !== 'json'
    ? require('pino-pretty').prettyFactory({
        colorize: true,
        singleLine: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service,name',
      })
    : null;

/** One line of a service's output as shown: JSON log lines made readable on a terminal. */
function show(line) {
  if (!pretty || !line.startsWith('{')) return line;
  try {
    return pretty(line).trimEnd();
  } catch {
    return line;
  }
}
const children = new Map();
let stopping = false;

function start(app) {
  const child = spawn(process.execPath, [path.join(root, 'apps', app, 'dist', 'main.js')], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `\x1b[${colors[app]}m${app.padEnd(12)}\x1b[0m|`;
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => console.log(`${prefix} ${show(line)}`));
  }
  child.on('exit', (code, signal) => {
    children.delete(app);
    if (!stopping) {
      console.error(`${prefix} exited (${signal ?? code}); stopping Herald`);
      stop(1);
    } else if (children.size === 0) process.exit(process.exitCode ?? 0);
  });
  children.set(app, child);
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 10_000).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function main() {
  for (const app of apps) start(app);
  const port = process.env.PORT || 3000;
  const base = `http://localhost:${port}`;
  for (let i = 0; i < 120 && !stopping; i++) {
    try {
      const res = await fetch(`${base}/health/ready`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const { signDevToken } = require(path.join(root, 'libs/auth/dist'));
  const { loadConfig } = require(path.join(root, 'libs/config/dist'));
  const config = loadConfig();
  const token = await signDevToken('dev-user', config.JWT_SECRET, {
    ttlSeconds: 24 * 3600,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  }).catch(() => '(set JWKS_URL: sign tokens with your identity provider)');
  console.log(
    `\n\x1b[1;36mHerald is running:\x1b[0m ${base}/\n\x1b[1;36mA dev token for "dev-user" (24 h):\x1b[0m ${token}\n  (another user: npm run token -- <userId>)\n`,
  );
}

void main(); // as before: a failure is an unhandled rejection, which ends the process with its stack
