import { Writable } from 'node:stream';
import { createLogger, REDACT_PATHS } from './logger';

/** The real logger writing into a stream; each log call gives back the JSON line it wrote. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('test', 'info', stream);
  return {
    logger,
    /** The last line written, as text (to search for a leak anywhere) and parsed. */
    last: () => ({ text: lines[lines.length - 1], json: JSON.parse(lines[lines.length - 1]) }),
  };
}

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW5vdC1yZWFs';
const SECRET = 'sk-live-0123456789abcdef';

describe('logger redaction', () => {
  it.each([
    ['token', { token: JWT }, (j: any) => j.token],
    ['auth.token (the socket handshake)', { auth: { token: JWT } }, (j: any) => j.auth.token],
    ['a nested token', { session: { token: JWT } }, (j: any) => j.session.token],
    ['authorization', { authorization: `Bearer ${JWT}` }, (j: any) => j.authorization],
    ['headers.authorization', { headers: { authorization: `Bearer ${JWT}`, host: 'h' } }, (j: any) => j.headers.authorization],
    ['req.headers.authorization', { req: { headers: { authorization: `Bearer ${JWT}` } } }, (j: any) => j.req.headers.authorization],
    ['query.token (SSE ?token=)', { query: { token: JWT, after: '5' } }, (j: any) => j.query.token],
    ['password', { password: SECRET }, (j: any) => j.password],
    ['secret', { db: { secret: SECRET } }, (j: any) => j.db.secret],
    ['apiKey', { apiKey: SECRET }, (j: any) => j.apiKey],
    ['llm.apiKey', { llm: { apiKey: SECRET } }, (j: any) => j.llm.apiKey],
    ['LLM_API_KEY', { LLM_API_KEY: SECRET }, (j: any) => j.LLM_API_KEY],
    ['config.LLM_API_KEY', { config: { LLM_API_KEY: SECRET } }, (j: any) => j.config.LLM_API_KEY],
    ['config.JWT_SECRET', { config: { JWT_SECRET: SECRET } }, (j: any) => j.config.JWT_SECRET],
  ])('redacts %s', (_path, fields, read) => {
    const { logger, last } = capture();
    logger.info(fields, 'something happened');
    const { text, json } = last();
    expect(read(json)).toBe('[redacted]');
    expect(text).not.toContain(JWT);
    expect(text).not.toContain(SECRET);
    expect(json.msg).toBe('something happened');
  });

  it('keeps the fields around the redacted ones, and the ids that tie lines together', () => {
    const { logger, last } = capture();
    const ids = { userId: 'alice', runId: 'r1', conversationId: 'c1', traceId: 'a'.repeat(32) };
    logger.info({ ...ids, headers: { authorization: `Bearer ${JWT}`, host: 'herald' }, query: { after: '7' } }, 'x');
    const { json } = last();
    expect(json).toMatchObject({ ...ids, service: 'test', headers: { host: 'herald' }, query: { after: '7' } });
  });

  it('redacts in child loggers too (the services log through children with bound ids)', () => {
    const { logger, last } = capture();
    logger.child({ runId: 'r1' }).warn({ token: JWT }, 'child');
    expect(last().json).toMatchObject({ runId: 'r1', token: '[redacted]' });
  });

  it('lists each path once', () => {
    expect(new Set(REDACT_PATHS).size).toBe(REDACT_PATHS.length);
  });
});
