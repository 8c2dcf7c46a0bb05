import { parseTokenArgs, runTokenCommand } from './token-command';
import { TokenVerifier } from './token-verifier';

const SECRET = 'cli-secret-0123456789-0123456789-abcdef';

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTokenCommand(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('parseTokenArgs', () => {
  it('reads the user id and --ttl', () => {
    expect(parseTokenArgs(['alice'])).toEqual({ userId: 'alice', ttlSeconds: 3600 });
    expect(parseTokenArgs(['alice', '--ttl', '90'])).toEqual({ userId: 'alice', ttlSeconds: 90 });
    expect(parseTokenArgs(['--ttl=90', 'a.b c'])).toEqual({ userId: 'a.b c', ttlSeconds: 90 });
  });

  it('reads --role', () => {
    expect(parseTokenArgs(['alice', '--role', 'admin'])).toEqual({ userId: 'alice', ttlSeconds: 3600, role: 'admin' });
    expect(parseTokenArgs(['alice', '--role'])).toHaveProperty('error');
    expect(parseTokenArgs(['alice', '--role', 'a b'])).toHaveProperty('error');
  });

  it('refuses bad arguments', () => {
    expect(parseTokenArgs([])).toHaveProperty('error');
    expect(parseTokenArgs(['a', '--ttl'])).toHaveProperty('error');
    expect(parseTokenArgs(['a', '--ttl', '-5'])).toHaveProperty('error');
    expect(parseTokenArgs(['a', 'b'])).toHaveProperty('error');
  });
});

describe('runTokenCommand', () => {
  it('prints only a token that the verifier accepts', async () => {
    const { code, out, err } = await run(['alice', '--ttl', '120'], { JWT_SECRET: SECRET, JWT_ISSUER: 'iss', JWT_AUDIENCE: 'aud' });
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    const verifier = TokenVerifier.fromConfig({ JWT_SECRET: SECRET, JWKS_URL: undefined, JWT_ISSUER: 'iss', JWT_AUDIENCE: 'aud' });
    const verified = await verifier.verify(out[0]);
    expect(verified.userId).toBe('alice');
    expect(verified.expiresAt - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it('refuses in production', async () => {
    const { code, out, err } = await run(['alice'], { NODE_ENV: 'production', JWT_SECRET: SECRET });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/production/);
  });

  it('refuses when JWKS_URL is set', async () => {
    const { code, out, err } = await run(['alice'], { JWKS_URL: 'https://idp.example.com/jwks.json' });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/JWKS_URL/);
  });

  it('reports invalid configuration and usage errors on stderr', async () => {
    expect((await run(['alice'], { JWT_SECRET: 'short' })).err.join('\n')).toMatch(/JWT_SECRET/);
    const usage = await run([], {});
    expect(usage.code).toBe(2);
    expect(usage.err.join('\n')).toMatch(/usage/);
  });
});
