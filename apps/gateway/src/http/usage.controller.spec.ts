import { loadConfig } from '@herald/config';
import type { RpcClient } from '@herald/messaging';
import type { AuthenticatedRequest } from './authenticated-request';
import { UsageController } from './usage.controller';
import { strictMock } from '@herald/test-support/strict-mock';

const EMPTY = { days: [], total: { runs: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 } };

function controller(env: Record<string, string> = {}) {
  const call = jest.fn(async (op: string, request: Record<string, unknown>) =>
    op === 'usage.day' ? { day: request.day, users: [], nextAfter: null } : EMPTY,
  );
  const usage = new UsageController(loadConfig({ NODE_ENV: 'development', ...env }), strictMock<RpcClient>({ call }, 'rpc'));
  return { usage, call };
}

const request = (claims: Record<string, unknown>) => strictMock<AuthenticatedRequest>({ heraldUser: { userId: 'ada', claims } }, 'request');

async function codeOf(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'no error',
    (err: { code?: string }) => err.code ?? 'no code',
  );
}

describe('UsageController', () => {
  const today = new Date().toISOString().slice(0, 10);

  it('reads the last 30 days (today included) by default, and the days asked for', async () => {
    const { usage, call } = controller();
    await usage.usage('ada', {});
    const [, defaults] = call.mock.calls[0];
    expect(defaults).toMatchObject({ userId: 'ada', to: today });
    expect((Date.parse(today) - Date.parse(defaults.from as string)) / 86_400_000).toBe(29);
    await usage.usage('ada', { from: '2026-01-01', to: '2026-01-31' });
    expect(call.mock.calls[1][1]).toEqual({ userId: 'ada', from: '2026-01-01', to: '2026-01-31' });
  });

  it('answers the quota with its reset at the next UTC midnight, or null without one', async () => {
    expect((await controller().usage.usage('ada', {})).quota).toBeNull();
    const { quota } = await controller({ QUOTA_DAILY_COST_USD: '2.5' }).usage.usage('ada', {});
    expect(quota).toEqual({ dailyTokens: null, dailyCostUsd: 2.5, resetsAt: expect.stringMatching(/T00:00:00\.000Z$/) });
    expect(Date.parse(quota!.resetsAt)).toBeGreaterThan(Date.now());
    expect(Date.parse(quota!.resetsAt) - Date.now()).toBeLessThanOrEqual(86_400_000);
  });

  it('refuses bad days, a reversed range and one over 366 days before asking persistence', async () => {
    const { usage, call } = controller();
    for (const query of [
      { from: '2026-02-30' },
      { to: 'today' },
      { from: '2026-03-02', to: '2026-03-01' },
      { from: '2024-01-01', to: '2026-01-01' },
      { from: ['2026-01-01', '2026-01-02'] },
    ]) {
      expect({ query, code: await codeOf(usage.usage('ada', query)) }).toEqual({ query, code: 'INVALID_INPUT' });
    }
    expect(call).not.toHaveBeenCalled();
  });

  it('shows every user’s usage to admins only, one page at a time', async () => {
    const { usage, call } = controller();
    expect(await codeOf(usage.adminUsage(request({}), { day: today }))).toBe('FORBIDDEN');
    expect(await codeOf(usage.adminUsage(request({ role: 'user' }), {}))).toBe('FORBIDDEN');
    expect(call).not.toHaveBeenCalled();
    await usage.adminUsage(request({ role: 'admin' }), {});
    expect(call).toHaveBeenLastCalledWith('usage.day', { day: today, limit: 500, after: undefined });
    await usage.adminUsage(request({ roles: ['admin'] }), { day: '2026-01-01', limit: '2', after: 'bob' });
    expect(call).toHaveBeenLastCalledWith('usage.day', { day: '2026-01-01', limit: 2, after: 'bob' });
    expect(await codeOf(usage.adminUsage(request({ role: 'admin' }), { limit: '5000' }))).toBe('INVALID_INPUT');
  });
});
