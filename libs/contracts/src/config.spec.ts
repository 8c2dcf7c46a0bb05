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
    [{ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET }, 'JWT_SECRET'],
    [{ MAX_MESSAGE_CHARS: 'many' }, 'MAX_MESSAGE_CHARS'],
    [{ MAX_MESSAGE_CHARS: '0' }, 'MAX_MESSAGE_CHARS'],
    [{ MAX_MESSAGE_CHARS: '12.5' }, 'MAX_MESSAGE_CHARS'],
    [{ EVENT_RETENTION_HOURS: '0' }, 'EVENT_RETENTION_HOURS'],
    [{ EVENT_RETENTION_HOURS: '-3' }, 'EVENT_RETENTION_HOURS'],
    [{ EVENT_RETENTION_HOURS: 'a day' }, 'EVENT_RETENTION_HOURS'],
    [{ LOCAL_ENGINE_TOKEN_DELAY_MS: '-1' }, 'LOCAL_ENGINE_TOKEN_DELAY_MS'],
    [{ LOCAL_ENGINE_TOKEN_DELAY_MS: 'fast' }, 'LOCAL_ENGINE_TOKEN_DELAY_MS'],
    [{ LOCAL_ENGINE_TOKEN_DELAY_MS: '10001' }, 'LOCAL_ENGINE_TOKEN_DELAY_MS'],
    [{ NATS_URL: 'localhost:4222' }, 'NATS_URL'],
    [{ NATS_URL: 'http://127.0.0.1:4222' }, 'NATS_URL'],
    [{ NATS_URL: 'nats://a:4222,redis://b:6379' }, 'NATS_URL'],
    [{ NATS_URL: 'nats://a:4222,' }, 'NATS_URL'],
    [{ JWT_ISSUER: '   ' }, 'JWT_ISSUER'],
    [{ JWT_AUDIENCE: ' \t ' }, 'JWT_AUDIENCE'],
    [{ JWT_SECRET: '    ' }, 'JWT_SECRET'],
    [{ DEV_TOKENS: 'maybe' }, 'DEV_TOKENS'],
  ])('stops on %p naming %s', (env, name) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(new RegExp(name));
  });

  it('accepts one or more nats:// and tls:// servers, comma-separated', () => {
    const NATS_URL = 'nats://a:4222, tls://b:4222,nats://user:pw@c';
    expect(loadConfig({ NATS_URL }).NATS_URL).toBe(NATS_URL);
  });

  it('keeps the JWT issuer and audience checks it is given', () => {
    expect(loadConfig({ JWT_ISSUER: ' https://issuer ', JWT_AUDIENCE: 'herald' })).toMatchObject({
      JWT_ISSUER: 'https://issuer',
      JWT_AUDIENCE: 'herald',
    });
    expect(loadConfig({ JWT_ISSUER: '' }).JWT_ISSUER).toBeUndefined();
  });

  it.each([
    [{}, true],
    [{ JWT_SECRET: DEV_JWT_SECRET }, true],
    [{ JWT_SECRET: 'x'.repeat(40) }, false],
    [{ JWT_SECRET: 'x'.repeat(40), DEV_TOKENS: 'true' }, true],
    [{ DEV_TOKENS: 'false' }, false],
    [{ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) }, false],
  ])('enables dev tokens by default only with the development secret: %p -> %p', (env, devTokens) => {
    expect(loadConfig(env as NodeJS.ProcessEnv).DEV_TOKENS).toBe(devTokens);
  });

  it('never enables dev tokens in production', () => {
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DEV_TOKENS: 'true' });
    expect(c.DEV_TOKENS).toBe(false);
    expect(c.usingDevSecret).toBe(false);
  });
});
