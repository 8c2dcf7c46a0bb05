import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** `scripts/infra.sh`, the check `npm start` and `npm test` run first, as a real process. */
function infra(env: Record<string, string> = {}) {
  const result = spawnSync('bash', ['scripts/infra.sh'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('scripts/infra.sh', () => {
  it('exits 0 when NATS (JetStream), Redis and PostgreSQL are up', () => {
    const { status, output } = infra();
    expect(output).toMatch(/NATS \(JetStream\), Redis and PostgreSQL are ready/);
    expect(status).toBe(0);
  });

  it('stops with a message naming the variable when a remote endpoint is unreachable (and starts nothing)', () => {
    const { status, output } = infra({ REDIS_URL: 'redis://redis.invalid:6379' });
    expect(status).not.toBe(0);
    expect(output).toMatch(/Redis is not reachable at redis\.invalid:6379 \(REDIS_URL\)/);
  });
});
