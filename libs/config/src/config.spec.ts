import { dailyQuotaOf, quotaReached } from '@herald/contracts';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from './config';

describe('loadConfig', () => {
  const DEV = { NODE_ENV: 'development' };
  const SECRET = 'x'.repeat(40);

  it('has working defaults in development and flags the dev secret', () => {
    const c = loadConfig(DEV);
    expect(c).toMatchObject({
      HOST: '127.0.0.1',
      METRICS_PORT: 9464,
      JWT_MAX_TTL_SECONDS: 86400,
      JWT_CLOCK_TOLERANCE_SECONDS: 30,
      MAX_CONNECTIONS_PER_USER: 20,
      READ_RATE_LIMIT_PER_MINUTE: 600,
      REPLAY_MAX_EVENTS: 10000,
      MAX_CONCURRENT_REPLAYS_PER_USER: 4,
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

  it('fails closed: unset NODE_ENV is production, which needs a real secret and listens everywhere', () => {
    expect(() => loadConfig({})).toThrow(/JWT_SECRET: is required .*NODE_ENV=development/);
    const c = loadConfig({ JWT_SECRET: SECRET });
    expect(c).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', DEV_TOKENS: false, usingDevSecret: false });
    expect(loadConfig({ JWT_SECRET: SECRET, HOST: '10.0.0.5' }).HOST).toBe('10.0.0.5');
    expect(loadConfig({ ...DEV, HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });

  it('lets the database commands, which handle no token, run without a secret', () => {
    expect(loadConfig({}, { tokens: false })).toMatchObject({ NODE_ENV: 'production', usingDevSecret: true, DEV_TOKENS: false });
    expect(() => loadConfig({ PORT: 'x' }, { tokens: false })).toThrow(/PORT/);
  });

  it('requires issuer and audience with JWKS_URL, and https except on loopback', () => {
    const jwks = { JWKS_URL: 'https://idp.example.com/jwks.json' };
    expect(() => loadConfig(jwks)).toThrow(/JWT_ISSUER: is required with JWKS_URL/);
    expect(() => loadConfig({ ...jwks, JWT_ISSUER: 'https://idp.example.com/' })).toThrow(/JWT_AUDIENCE: is required with JWKS_URL/);
    const claims = { JWT_ISSUER: 'https://idp.example.com/', JWT_AUDIENCE: 'herald' };
    expect(loadConfig({ ...jwks, ...claims }).JWKS_URL).toBe(jwks.JWKS_URL);
    expect(() => loadConfig({ JWKS_URL: 'http://idp.example.com/jwks.json', ...claims })).toThrow(/JWKS_URL: must be https/);
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      expect(loadConfig({ JWKS_URL: `http://${host}:8080/jwks.json`, ...claims }).JWKS_URL).toContain(host);
    }
  });

  it.each([
    [{ NODE_ENV: 'test' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'test', JWT_SECRET: DEV_JWT_SECRET }, 'JWT_SECRET'],
    [{ JWT_MAX_TTL_SECONDS: '0' }, 'JWT_MAX_TTL_SECONDS'],
    [{ MAX_CONNECTIONS_PER_USER: '0' }, 'MAX_CONNECTIONS_PER_USER'],
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
    expect(loadConfig({ ...DEV, NATS_URL }).NATS_URL).toBe(NATS_URL);
  });

  it('takes NATS credentials of one kind: a user with its password, a token, or a creds file', () => {
    expect(loadConfig({ ...DEV, NATS_USER: 'gateway', NATS_PASSWORD: 'p1' })).toMatchObject({ NATS_USER: 'gateway', NATS_PASSWORD: 'p1' });
    expect(loadConfig({ ...DEV, NATS_TOKEN: 't1' }).NATS_TOKEN).toBe('t1');
    expect(loadConfig({ ...DEV, NATS_CREDS: '/run/secrets/herald.creds' }).NATS_CREDS).toBe('/run/secrets/herald.creds');
    expect(() => loadConfig({ ...DEV, NATS_USER: 'gateway' })).toThrow(/NATS_PASSWORD: is required with NATS_USER/);
    expect(() => loadConfig({ ...DEV, NATS_PASSWORD: 'p1' })).toThrow(/NATS_USER: is required with NATS_PASSWORD/);
    expect(() => loadConfig({ ...DEV, NATS_USER: 'gateway', NATS_PASSWORD: 'p1', NATS_TOKEN: 't1' })).toThrow(
      /NATS_TOKEN: set only one way/,
    );
    expect(() => loadConfig({ ...DEV, NATS_TOKEN: 't1', NATS_CREDS: '/x.creds' })).toThrow(/NATS_CREDS: set only one way/);
    expect(() => loadConfig({ ...DEV, NATS_PASSWORD: '  ' })).toThrow(/NATS_PASSWORD: must not be blank/);
  });

  it('keeps the JWT issuer and audience checks it is given', () => {
    expect(loadConfig({ ...DEV, JWT_ISSUER: ' https://issuer ', JWT_AUDIENCE: 'herald' })).toMatchObject({
      JWT_ISSUER: 'https://issuer',
      JWT_AUDIENCE: 'herald',
    });
    expect(loadConfig({ ...DEV, JWT_ISSUER: '' }).JWT_ISSUER).toBeUndefined();
  });

  it.each([
    [{}, true],
    [{ JWT_SECRET: DEV_JWT_SECRET }, true],
    [{ JWT_SECRET: 'x'.repeat(40) }, false],
    [{ JWT_SECRET: 'x'.repeat(40), DEV_TOKENS: 'true' }, true],
    [{ DEV_TOKENS: 'false' }, false],
    [{ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) }, false],
  ])('enables dev tokens by default only with the development secret: %p -> %p', (env, devTokens) => {
    expect(loadConfig({ ...DEV, ...env } as NodeJS.ProcessEnv).DEV_TOKENS).toBe(devTokens);
  });

  it('never enables dev tokens in production', () => {
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DEV_TOKENS: 'true' });
    expect(c.DEV_TOKENS).toBe(false);
    expect(c.usingDevSecret).toBe(false);
  });

  it('picks the model provider: none (the local engine) by default, openai-compatible with LLM_BASE_URL, or the one named', () => {
    expect(loadConfig(DEV)).toMatchObject({ LLM_PROVIDER: undefined, LLM_MAX_STEPS: 6 });
    expect(loadConfig({ ...DEV, LLM_BASE_URL: 'http://127.0.0.1:8000/v1' }).LLM_PROVIDER).toBe('openai-compatible');
    expect(loadConfig({ ...DEV, LLM_PROVIDER: 'anthropic', LLM_API_KEY: 'sk-ant' }).LLM_PROVIDER).toBe('anthropic');
    expect(loadConfig({ ...DEV, LLM_PROVIDER: 'openai', LLM_API_KEY: 'sk', LLM_BASE_URL: 'https://proxy.example.com/v1' })).toMatchObject({
      LLM_PROVIDER: 'openai',
      LLM_BASE_URL: 'https://proxy.example.com/v1',
    });
    expect(() => loadConfig({ ...DEV, LLM_PROVIDER: 'openai-compatible' })).toThrow(
      /LLM_BASE_URL: is required with LLM_PROVIDER=openai-compatible/,
    );
    expect(() => loadConfig({ ...DEV, LLM_PROVIDER: 'anthropic' })).toThrow(/LLM_API_KEY: is required with LLM_PROVIDER=anthropic/);
    expect(() => loadConfig({ ...DEV, LLM_PROVIDER: 'gemini' })).toThrow(/LLM_PROVIDER/);
    expect(() => loadConfig({ ...DEV, LLM_MAX_STEPS: '0' })).toThrow(/LLM_MAX_STEPS/);
  });

  it('reads MCP_SERVERS: stdio and Streamable HTTP servers as JSON, with approval and timeout defaults', () => {
    expect(loadConfig(DEV).MCP_SERVERS).toBeUndefined();
    const servers = [
      { name: 'files', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv'], env: { DEBUG: '1' } },
      { name: 'crm', url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer t' }, approval: 'always', timeoutMs: 5000 },
    ];
    expect(loadConfig({ ...DEV, MCP_SERVERS: JSON.stringify(servers) }).MCP_SERVERS).toEqual([
      { ...servers[0], approval: 'auto', timeoutMs: 60_000 },
      { ...servers[1] },
    ]);
    expect(loadConfig({ ...DEV, MCP_SERVERS: '[{"name":"t","command":"node"}]' }).MCP_SERVERS).toEqual([
      { name: 't', command: 'node', args: [], env: {}, approval: 'auto', timeoutMs: 60_000 },
    ]);
  });

  it.each([
    ['not json', /MCP_SERVERS: must be JSON/],
    ['{"name":"a","command":"x"}', /MCP_SERVERS/],
    ['[{"name":"Bad.Name","command":"x"}]', /MCP_SERVERS/],
    ['[{"name":"a"}]', /MCP_SERVERS/],
    ['[{"name":"a","command":"x","url":"http://h/mcp"}]', /MCP_SERVERS/],
    ['[{"name":"a","url":"ftp://h/mcp"}]', /MCP_SERVERS/],
    ['[{"name":"a","command":"x","approval":"sometimes"}]', /MCP_SERVERS/],
    ['[{"name":"a","command":"x"},{"name":"a","url":"http://h/mcp"}]', /MCP_SERVERS: must not name two servers alike/],
  ])('refuses MCP_SERVERS=%s', (value, error) => {
    expect(() => loadConfig({ NODE_ENV: 'development', MCP_SERVERS: value })).toThrow(error);
  });

  describe('webhooks', () => {
    const WHSEC = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

    it('are off by default: no URLs, private targets refused', () => {
      expect(loadConfig(DEV)).toMatchObject({ WEBHOOK_URLS: [], WEBHOOK_ALLOW_PRIVATE: false });
      expect(loadConfig(DEV).WEBHOOK_SECRET).toBeUndefined();
    });

    it('read WEBHOOK_URLS as a comma-separated list of http(s) URLs, with the secret and WEBHOOK_ALLOW_PRIVATE', () => {
      const c = loadConfig({
        ...DEV,
        WEBHOOK_URLS: ' https://hooks.example.com/herald?token=abc , http://10.0.0.5:8080/in',
        WEBHOOK_SECRET: WHSEC,
        WEBHOOK_ALLOW_PRIVATE: 'true',
      });
      expect(c).toMatchObject({
        WEBHOOK_URLS: ['https://hooks.example.com/herald?token=abc', 'http://10.0.0.5:8080/in'],
        WEBHOOK_SECRET: WHSEC,
        WEBHOOK_ALLOW_PRIVATE: true,
      });
      // The specification's own example secret (24 bytes) is accepted.
      expect(
        loadConfig({ ...DEV, WEBHOOK_URLS: 'https://a.example', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).WEBHOOK_URLS,
      ).toEqual(['https://a.example']);
    });

    it.each([
      ['not a url', /WEBHOOK_URLS: entry 1 is not a URL/],
      ['https://a.example.com/in, ftp://files.example.com/in', /WEBHOOK_URLS: entry 2 is a ftp: URL; only http and https/],
      ['javascript:alert(1)', /WEBHOOK_URLS: entry 1 is a javascript: URL/],
      ['https://user:pass@hooks.example.com/in', /WEBHOOK_URLS: entry 1 has credentials/],
      ['https://:pass@hooks.example.com/in', /WEBHOOK_URLS: entry 1 has credentials/],
      ['https://hooks.example.com/in#frag', /WEBHOOK_URLS: entry 1 has a fragment/],
      ['https://a.example.com/in,,https://b.example.com/in', /WEBHOOK_URLS: entry 2 is empty/],
      ['https://a.example.com/in,https://a.example.com/in', /WEBHOOK_URLS: lists a URL twice/],
      [Array.from({ length: 17 }, (_, i) => `https://h${i}.example.com/`).join(','), /WEBHOOK_URLS: lists more than 16 URLs/],
      [`https://a.example.com/${'x'.repeat(2100)}`, /WEBHOOK_URLS: entry 1 is over 2048 characters/],
    ])('refuse WEBHOOK_URLS=%s', (value, error) => {
      expect(() => loadConfig({ ...DEV, WEBHOOK_URLS: value, WEBHOOK_SECRET: WHSEC })).toThrow(error);
    });

    it('never repeat a refused entry (it may hold a token)', () => {
      for (const value of ['https://user:hunter2@hooks.example.com/', 'https://[hunter2/in', 'ftp://hunter2.example.com/']) {
        expect(() => loadConfig({ ...DEV, WEBHOOK_URLS: value, WEBHOOK_SECRET: WHSEC })).toThrow(/WEBHOOK_URLS: entry 1/);
        expect(() => loadConfig({ ...DEV, WEBHOOK_URLS: value, WEBHOOK_SECRET: WHSEC })).not.toThrow(/hunter2/);
      }
    });

    it.each([
      [undefined, /WEBHOOK_SECRET: is required with WEBHOOK_URLS/],
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /WEBHOOK_SECRET: must start with whsec_/],
      ['whsec_not*base64!', /WEBHOOK_SECRET: must be whsec_ followed by standard base64/],
      ['whsec_abc', /WEBHOOK_SECRET: must be whsec_ followed by standard base64/],
      [`whsec_${Buffer.alloc(16).toString('base64')}`, /WEBHOOK_SECRET: must hold 24 to 64 bytes of key \(it holds 16\)/],
      [`whsec_${Buffer.alloc(65).toString('base64')}`, /WEBHOOK_SECRET: must hold 24 to 64 bytes/],
    ])('refuse WEBHOOK_SECRET=%s with WEBHOOK_URLS', (secret, error) => {
      const env: Record<string, string> = { ...DEV, WEBHOOK_URLS: 'https://hooks.example.com/in' };
      if (secret !== undefined) env.WEBHOOK_SECRET = secret;
      expect(() => loadConfig(env)).toThrow(error);
    });

    it('refuse a WEBHOOK_ALLOW_PRIVATE that is not a boolean', () => {
      expect(() => loadConfig({ ...DEV, WEBHOOK_ALLOW_PRIVATE: 'sometimes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE: must be true or false/);
    });
  });
});

describe('daily quotas from the environment', () => {
  it('has no quota unless one is configured; each limit is reached at its value', () => {
    expect(dailyQuotaOf(loadConfig({ NODE_ENV: 'development' }))).toBeNull();
    const tokens = dailyQuotaOf(loadConfig({ NODE_ENV: 'development', QUOTA_DAILY_TOKENS: '1000' }))!;
    expect(tokens).toEqual({ dailyTokens: 1000, dailyCostUsd: null });
    expect(quotaReached(tokens, { tokens: 999, costUsd: 1e9 })).toBe(false);
    expect(quotaReached(tokens, { tokens: 1000, costUsd: 0 })).toBe(true);
    const cost = dailyQuotaOf(loadConfig({ NODE_ENV: 'development', QUOTA_DAILY_COST_USD: '0.5' }))!;
    expect(quotaReached(cost, { tokens: 1e12, costUsd: 0.49999999 })).toBe(false);
    expect(quotaReached(cost, { tokens: 0, costUsd: 0.5 })).toBe(true);
  });

  it('validates the quota variables, naming them', () => {
    const dev = { NODE_ENV: 'development' };
    expect(() => loadConfig({ ...dev, QUOTA_DAILY_TOKENS: '0' })).toThrow(/QUOTA_DAILY_TOKENS/);
    expect(() => loadConfig({ ...dev, QUOTA_DAILY_TOKENS: '1.5' })).toThrow(/QUOTA_DAILY_TOKENS: must be an integer/);
    expect(() => loadConfig({ ...dev, QUOTA_DAILY_TOKENS: 'lots' })).toThrow(/QUOTA_DAILY_TOKENS: must be a number/);
    expect(() => loadConfig({ ...dev, QUOTA_DAILY_COST_USD: '-1' })).toThrow(/QUOTA_DAILY_COST_USD/);
    expect(() => loadConfig({ ...dev, QUOTA_DAILY_COST_USD: 'Infinity' })).toThrow(/QUOTA_DAILY_COST_USD/);
    expect(loadConfig({ ...dev, QUOTA_DAILY_COST_USD: '2.5' }).QUOTA_DAILY_COST_USD).toBe(2.5);
  });
});
