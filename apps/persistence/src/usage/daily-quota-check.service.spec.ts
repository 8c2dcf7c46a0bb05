import { ErrorCode, HeraldError } from '@herald/contracts';
import { type Config, loadConfig } from '@herald/config';
import { createLogger } from '@herald/observability';
import type { EntityManager } from 'typeorm';
import { DailyQuotaCheck } from './daily-quota-check.service';
import type { UsageRepository } from './usage.repository';
import { strictMock } from '@herald/test-support/strict-mock';

const db = strictMock<EntityManager>({}, 'entity manager');
const logger = createLogger('test', 'silent');

function check(env: Record<string, string>, spentOn: jest.Mock) {
  const config: Config = loadConfig({ NODE_ENV: 'development', ...env });
  return new DailyQuotaCheck(config, logger, strictMock<UsageRepository>({ spentOn }, 'usage repository'));
}

async function refusal(work: Promise<void>): Promise<HeraldError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!HeraldError.is(err)) throw new Error(`expected a HeraldError, got ${String(err)}`);
  return err;
}

describe('DailyQuotaCheck', () => {
  it('reads nothing at all without a quota', async () => {
    const spentOn = jest.fn();
    await check({}, spentOn).check(db, 'alice');
    expect(spentOn).not.toHaveBeenCalled();
  });

  it('reads the user’s UTC day and admits under the limit', async () => {
    const spentOn = jest.fn(async () => ({ tokens: 99, costUsd: 0 }));
    await check({ QUOTA_DAILY_TOKENS: '100' }, spentOn).check(db, 'alice', new Date('2026-12-01T23:59:59.999Z'));
    expect(spentOn).toHaveBeenCalledWith(db, 'alice', '2026-12-01');
  });

  it('refuses with QUOTA_EXCEEDED and the time until the next UTC midnight once a limit is reached', async () => {
    const spentOn = jest.fn(async () => ({ tokens: 100, costUsd: 0 }));
    const err = await refusal(check({ QUOTA_DAILY_TOKENS: '100' }, spentOn).check(db, 'alice', new Date('2026-12-02T23:00:00.000Z')));
    expect(err.code).toBe(ErrorCode.QUOTA_EXCEEDED);
    expect(err.retryAfterMs).toBe(3_600_000);
    expect(err.message).toContain('2026-12-03T00:00:00.000Z');

    const costly = jest.fn(async () => ({ tokens: 1, costUsd: 0.25 }));
    const byCost = await refusal(check({ QUOTA_DAILY_COST_USD: '0.25' }, costly).check(db, 'bob', new Date('2026-12-02T00:00:00.000Z')));
    expect(byCost).toMatchObject({ code: ErrorCode.QUOTA_EXCEEDED, retryAfterMs: 86_400_000 });
  });

  it('fails closed: usage that cannot be read refuses the run as UNAVAILABLE', async () => {
    const spentOn = jest.fn(async () => {
      throw Object.assign(new Error('connection terminated'), { code: '57P01' });
    });
    const err = await refusal(check({ QUOTA_DAILY_COST_USD: '1' }, spentOn).check(db, 'alice'));
    expect(err.code).toBe(ErrorCode.UNAVAILABLE);
    expect(err.message).not.toContain('connection terminated');
  });
});
