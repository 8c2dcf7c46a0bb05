import { ConfigError, DEV_JWT_SECRET, loadConfig } from './config';

describe('loadConfig', () => {
  it('has working defaults and flags the dev secret', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      NATS_URL: 'nats://127.0.0.1:4222',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/herald',
      RATE_LIMIT_PER_MINUTE: 10,
      MAX_MESSAGE_CHARS: 8000,
      EVENT_RETENTION_HOURS: 24,
      JWT_SECRET: DEV_JWT_SECRET,
      usingDevSecret: true,
      HERALD_NAMESPACE: 'herald',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ RATE_LIMIT_PER_MINUTE: '0' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ HERALD_NAMESPACE: 'a.b' }, 'HERALD_NAMESPACE'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ JWKS_URL: 'ftp://keys' }, 'JWKS_URL'],
  ])('stops on %p naming %s', (env, name) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(new RegExp(name));
  });

  it('never enables dev tokens in production', () => {
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DEV_TOKENS: 'true' });
    expect(c.DEV_TOKENS).toBe(false);
    expect(c.usingDevSecret).toBe(false);
  });
});
