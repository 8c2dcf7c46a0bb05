import { browserSuite } from '../support/browser';

/**
 * The page's usage meter and quota note, in Chromium against real processes: today's tokens
 * and cost against the daily quota, updated after a run, and a clear message once the quota
 * is spent and a message is refused.
 */
describe('usage and the daily quota on the web page', () => {
  const suite = browserSuite({
    gateways: 1,
    env: { DEV_TOKENS: 'true', QUOTA_DAILY_TOKENS: '1', LLM_PROMPT_PRICE_PER_MTOK: '3', LLM_COMPLETION_PRICE_PER_MTOK: '15' },
  });
  const page = suite.page;

  it('shows today’s usage against the quota, and says so clearly once the quota is spent', async () => {
    await suite.signIn('grace');
    const meter = page().locator('#usage');
    await meter.waitFor();
    expect(await meter.textContent()).toBe('Today: 0 / 1 tokens');
    expect(await page().locator('#quota-note').isHidden()).toBe(true);

    // One run: admitted under the quota, it finishes and its usage shows a moment later.
    await page().fill('#content', 'What is NATS JetStream?');
    await page().press('#content', 'Enter');
    await page().locator('.timeline .run[data-state="completed"]').waitFor({ timeout: 60_000 });
    await page().locator('#usage.spent').waitFor({ timeout: 15_000 });
    const text = (await meter.textContent())!;
    const [, tokens] = /^Today: ([\d,]+) \/ 1 tokens · \$\d+\.\d+$/.exec(text) ?? [];
    expect(Number(tokens?.replace(/,/g, ''))).toBeGreaterThan(1);
    const usage = (await (await suite.cluster.http('/v1/usage', { userId: 'grace' })).json()) as {
      total: { promptTokens: number; completionTokens: number };
    };
    expect(Number(tokens.replace(/,/g, ''))).toBe(usage.total.promptTokens + usage.total.completionTokens);
    expect(await page().locator('#quota-note').textContent()).toMatch(
      /You have used today’s quota\. New messages are accepted again at .+ \(midnight UTC, in \d+ (h \d+ )?min\)/,
    );

    // The next message is refused, and the page says why and until when.
    await page().fill('#content', 'And what about Socket.IO?');
    await page().press('#content', 'Enter');
    const refused = page().locator('.notice.failed').filter({ hasText: 'Not sent:' }).last();
    await refused.waitFor();
    expect(await refused.textContent()).toContain('Your daily usage quota is spent. It resets at');
    expect(await page().locator('#quota-note').isVisible()).toBe(true);
    expect(await page().inputValue('#content')).toBe('And what about Socket.IO?'); // kept for later
    await suite.browser.screenshot('usage-quota-spent');
  }, 120_000);
});
