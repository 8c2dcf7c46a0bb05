import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Runs a built app with only `env` (and PATH) and waits for it to exit. */
function runApp(app: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'apps', app, 'dist', 'main.js')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('configuration of a built app', () => {
  it('stops the gateway with a non-zero exit and a message naming each bad variable', async () => {
    const { code, output } = await runApp('gateway', { PORT: 'x', JWT_ISSUER: '   ', NATS_URL: 'localhost:4222' });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output).toMatch(/Invalid configuration/);
    expect(output).toMatch(/PORT: must be a number/);
    expect(output).toMatch(/JWT_ISSUER: must not be blank/);
    expect(output).toMatch(/NATS_URL: must be one or more nats:\/\/ or tls:\/\/ URLs/);
  });

  it.each(['gateway', 'orchestrator', 'worker', 'persistence'])(
    'fails closed: %s will not start without JWT_SECRET or JWKS_URL unless NODE_ENV=development',
    async (app) => {
      // Every mode on the gateway (it verifies tokens); the unset mode on the others.
      const envs: Array<Record<string, string>> =
        app === 'gateway'
          ? [{}, { NODE_ENV: 'production' }, { NODE_ENV: 'test' }, { JWT_SECRET: 'herald-dev-secret-change-me-0123456789' }]
          : [{}];
      for (const env of envs) {
        const { code, output } = await runApp(app, env);
        expect({ env, code }).toEqual({ env, code: expect.any(Number) });
        expect(code).not.toBe(0);
        expect(output).toMatch(/JWT_SECRET/);
      }
    },
    60_000,
  );

  it('stops persistence when a webhook URL or the webhook secret is malformed, naming the variable and never the URL', async () => {
    const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) };
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { WEBHOOK_URLS: 'https://hooks.example.com/in, ftp://s3cret.example.com/in', WEBHOOK_SECRET: `whsec_${'A'.repeat(32)}` },
        /WEBHOOK_URLS: entry 2 is a ftp: URL/,
      ],
      [
        { WEBHOOK_URLS: 'https://user:s3cret@hooks.example.com/in', WEBHOOK_SECRET: `whsec_${'A'.repeat(32)}` },
        /WEBHOOK_URLS: entry 1 has credentials/,
      ],
      [{ WEBHOOK_URLS: 'https://hooks.example.com/in' }, /WEBHOOK_SECRET: is required with WEBHOOK_URLS/],
      [{ WEBHOOK_URLS: 'https://hooks.example.com/in', WEBHOOK_SECRET: 's3cret' }, /WEBHOOK_SECRET: must start with whsec_/],
    ];
    for (const [env, message] of cases) {
      const { code, output } = await runApp('persistence', { ...base, ...env });
      expect({ env, code }).toEqual({ env, code: 1 });
      expect(output).toMatch(message);
      expect(output).not.toMatch(/s3cret/);
    }
  }, 60_000);
});
