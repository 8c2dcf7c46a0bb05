import type { Locator } from 'playwright-core';
import { browserSuite } from '../support/browser';

/**
 * The web client served by the gateway at `/`, in Chromium, against the four services as
 * real processes: sign in, ask and watch the timeline and the streamed answer, cancel a run,
 * lose the connection mid-run and catch up, reload and find the history, answer an approval
 * and a clarification in the timeline, and sign in with a pasted token where dev tokens are off.
 */
describe('the web client in a browser', () => {
  // A per-token delay makes a run last a few seconds: long enough to cancel it or to drop the connection.
  // The page's development sign-in: on with the cluster's real secret (off by default outside development).
  const suite = browserSuite({ gateways: 1, env: { LOCAL_ENGINE_TOKEN_DELAY_MS: '30', DEV_TOKENS: 'true' } });
  const page = suite.page;

  async function ask(question: string) {
    await page().fill('#content', question);
    await page().press('#content', 'Enter');
  }

  it('signs in with a user name and goes live', async () => {
    await suite.signIn('ada');
    expect(await page().textContent('#connection')).toBe('Live');
    expect(await page().textContent('#user')).toBe('ada');
    await page().getByText('What would you like to know?').waitFor();
  });

  it('streams the answer beside a live timeline of agents and tool calls', async () => {
    await ask('How does Herald resume a stream after a reconnect?');
    const run = page().locator('.timeline .run');
    // While it works: an open agent row and the cancel button.
    await run.locator('.step.agent.open').first().waitFor();
    expect(await page().isVisible('#cancel')).toBe(true);
    await run.locator('[data-state="completed"]').or(page().locator('.timeline .run[data-state="completed"]')).waitFor({ timeout: 60_000 });

    expect(await run.locator('.step.agent').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.agent))).toEqual([
      'triage',
      'knowledge',
      'reporting',
    ]);
    expect(await run.locator('.step.agent.open').count()).toBe(0);
    await suite.browser.screenshot('answer-and-timeline', { readme: true });
    const tool = run.locator('details.tool').first();
    expect(await tool.getAttribute('open')).toBeNull(); // collapsed by default
    expect(await tool.locator('.tool-name').textContent()).toBe('knowledge_search');
    await tool.locator('summary').click();
    expect(await tool.locator('.tool-io h4').allTextContents()).toEqual(['Input', 'Output']);
    expect(await tool.locator('.tool-io pre').first().textContent()).toContain('"query"');
    expect(await run.getAttribute('data-ended')).toBe('orchestration_completed');
    expect(await run.locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('100');
    expect(await run.locator('.run-status').textContent()).toMatch(/^Completed in /);

    const answer = page().locator('.msg.assistant').last();
    expect(await answer.getAttribute('class')).not.toContain('streaming');
    expect((await answer.locator('.text').textContent())!.length).toBeGreaterThan(40);
    expect(await answer.locator('.sources li').count()).toBeGreaterThan(0);
    expect(await page().locator('#cancel').isHidden()).toBe(true);
    expect(await page().locator('.conversation[aria-current="page"] .title').textContent()).toBe(
      'How does Herald resume a stream after a reconnect?',
    );
    await suite.browser.screenshot('tool-call-opened');
  });

  it('cancels a run from the cancel button', async () => {
    await ask('Explain how the gateway delivers events to every tab of a user, in detail.');
    await page().locator('.msg.assistant.streaming').waitFor({ timeout: 30_000 });
    await page().getByRole('button', { name: 'Cancel run' }).click();
    await page().locator('.timeline .run[data-state="cancelled"]').waitFor();
    await page().getByText('Run cancelled. Nothing was stored for it.').waitFor();
    expect(await page().locator('.msg.assistant.streaming').count()).toBe(0);
    expect(await page().locator('.timeline .run .badge').textContent()).toBe('Cancelled');
    await suite.browser.screenshot('cancelled');
  });

  it('shows the disconnection while it lasts, and catches up on what the run did meanwhile', async () => {
    await ask('What is NATS JetStream and why does Herald use it?');
    await page().locator('.msg.assistant.streaming').waitFor({ timeout: 30_000 });
    const gateway = suite.cluster.gateways[0];
    const port = new URL(gateway.url!).port;
    await suite.cluster.kill(gateway, 'SIGKILL');
    await page().locator('body[data-connection="offline"]').waitFor();
    expect(await page().locator('#banner').textContent()).toMatch(/connection was lost|restarting/i);
    expect(await page().textContent('#connection')).toBe('Offline');

    const again = await suite.cluster.startService('gateway', { PORT: port });
    again.url = gateway.url;
    await suite.cluster.waitReady(again);
    await page().locator('#banner[data-kind="caught-up"]').waitFor({ timeout: 30_000 });
    expect(await page().locator('#banner').textContent()).toMatch(/^Back online and caught up: \d+ missed events? delivered\.$/);
    await page().locator('.timeline .run[data-state="completed"]').waitFor({ timeout: 60_000 });
    const answers = page().locator('.msg.assistant');
    expect((await answers.last().locator('.text').textContent())!.length).toBeGreaterThan(40);
  });

  it('finds the conversation again after a reload', async () => {
    await page().reload();
    await page().locator('#connection.online').waitFor();
    const messages = page().locator('.messages .msg');
    await messages.nth(3).waitFor();
    const roles = await messages.evaluateAll((nodes) => nodes.map((n) => (n.classList.contains('user') ? 'user' : 'assistant')));
    // Two completed exchanges; the cancelled question stored nothing (PROTOCOL.md §5).
    expect(roles).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(await messages.first().locator('.text').textContent()).toBe('How does Herald resume a stream after a reconnect?');
    expect(await page().locator('.conversation').count()).toBe(1);
    await suite.browser.screenshot('history-after-reload');
  });

  /** Asks in a new conversation and waits for the run's prompt in the timeline. */
  async function askUntilPrompt(question: string) {
    await page().getByRole('button', { name: '+ New conversation' }).click();
    await ask(question);
    const run = page().locator('.timeline .run').last();
    const prompt = run.locator('.step.prompt');
    await prompt.locator('.prompt-question').waitFor({ timeout: 30_000 });
    await page().locator('.timeline .run[data-state="waiting"]').waitFor();
    return { run, prompt };
  }

  /** Clicks one of the prompt's buttons; the prompt then says what was answered, and the run goes on to complete. */
  async function answerPrompt(prompt: Locator, button: string, answered: string) {
    await prompt.getByRole('button', { name: button }).click();
    await prompt.locator('.prompt-answered').waitFor();
    expect(await prompt.locator('.prompt-answered').textContent()).toBe(`You answered: ${answered}`);
    expect(await prompt.locator('button').count()).toBe(0);
    await page().locator('.timeline .run[data-state="completed"]').waitFor({ timeout: 60_000 });
  }

  it('answers an approval in place: the run waits, Approve, and it goes on to export', async () => {
    const { run, prompt } = await askUntilPrompt('Export the revenue by region as CSV');
    expect(await prompt.locator('.prompt-question').textContent()).toMatch(/^Approve: Export 4 rows as .+\.csv\?$/);
    expect(await prompt.locator('.prompt-details').textContent()).toContain('"format": "csv"');
    await suite.browser.screenshot('approval-prompt');
    await answerPrompt(prompt, 'Approve', 'Approved');
    expect(await run.locator('details.tool .tool-name').allTextContents()).toContain('export_csv');
    // The answer's Markdown table as a table, and the approved export as a download.
    const answer = page().locator('.msg.assistant').last();
    expect(await answer.locator('table th').allTextContents()).toEqual(['region', 'value']);
    expect(await answer.locator('table tbody tr').count()).toBe(4);
    expect(await answer.locator('.text').textContent()).not.toContain('|');
    const download = answer.getByRole('link', { name: /^Download .+\.csv$/ });
    expect(await download.getAttribute('href')).toMatch(/^blob:/);
    await suite.browser.screenshot('approved-export');
  });

  it('answers a clarification in place with one of its choices', async () => {
    const { prompt } = await askUntilPrompt('sales by category please');
    expect(await prompt.locator('.prompt-question').textContent()).toMatch(/revenue \(USD\) or units sold/);
    expect(await prompt.locator('.choices button').allTextContents()).toEqual(['revenue', 'units sold']);
    await answerPrompt(prompt, 'units sold', 'units sold');
    expect(await page().locator('.msg.assistant').last().locator('.text').textContent()).toContain('Units sold by category');
    await suite.browser.screenshot('clarification-answered');
  });

  it('offers a pasted token, never a dev token, where development sign-in is off', async () => {
    const locked = await suite.cluster.startService('gateway', { DEV_TOKENS: 'false' });
    await suite.cluster.waitReady(locked);
    const asked: string[] = [];
    const record = (request: { url(): string }) => asked.push(new URL(request.url()).pathname);
    page().on('request', record);
    try {
      await page().goto(locked.url!);
      await page().getByText('Development sign-in is off on this server').waitFor();
      expect(await page().isVisible('#token')).toBe(true);
      expect(await page().isVisible('#user-name')).toBe(false);
      expect(await page().isVisible('#app')).toBe(false);
      await suite.browser.screenshot('sign-in-with-token');

      await page().fill('#token', 'not-a-token');
      await page().getByRole('button', { name: 'Start chatting' }).click();
      await page().getByRole('alert').filter({ hasText: 'not a token that is still valid' }).waitFor();

      await page().fill('#token', await suite.cluster.token('mallory'));
      await page().getByRole('button', { name: 'Start chatting' }).click();
      await page().locator('#connection.online').waitFor();
      expect(await page().textContent('#user')).toBe('mallory');
      expect(asked).toContain('/v1/dev/config');
      expect(asked.filter((path) => path.startsWith('/v1/dev/token'))).toEqual([]);
    } finally {
      page().off('request', record);
    }
  });
});
