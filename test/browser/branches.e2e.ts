import { browserSuite } from '../support/browser';

/**
 * Edit and regenerate on the web page (PROTOCOL.md §10), in Chromium against the four
 * services: regenerate an answer, page between its versions (◀ 1/2 ▶), edit a question,
 * and find the branch last shown after a reload.
 */
describe('the web client: edit, regenerate and versions', () => {
  const suite = browserSuite({ gateways: 1, env: { DEV_TOKENS: 'true' } });
  const page = suite.page;
  const question = () => page().locator('.messages .msg.user').first();
  const answer = () => page().locator('.messages .msg.assistant').last();
  /** The ids of the messages on screen, in order. */
  const shown = () =>
    page()
      .locator('.messages .msg')
      .evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.messageId ?? ''));
  /** Waits until the answer on screen is a stored one other than `not` (the page shows the stored branch once a version is stored). */
  async function nextAnswer(not: string | null): Promise<string> {
    await page().waitForFunction(
      (previous) => {
        const last = Array.from(document.querySelectorAll<HTMLElement>('.messages .msg.assistant')).at(-1);
        return !!last && !last.classList.contains('streaming') && !!last.querySelector('.msg-tools') && last.dataset.messageId !== previous;
      },
      not,
      { timeout: 60_000 },
    );
    return (await answer().getAttribute('data-message-id'))!;
  }

  it('signs in and asks', async () => {
    await suite.signIn('grace');
    await page().fill('#content', 'What is NATS JetStream?');
    await page().press('#content', 'Enter');
    await nextAnswer(null);
    // A new message gets its Edit button once the server has acknowledged it.
    await question().getByRole('button', { name: 'Edit' }).waitFor();
  });

  it('regenerates an answer and pages between its two versions', async () => {
    const first = (await answer().getAttribute('data-message-id'))!;
    await answer().getByRole('button', { name: 'Regenerate' }).click();
    const second = await nextAnswer(first);
    expect(second).not.toBe(first);
    await answer().locator('.siblings .position', { hasText: '2/2' }).waitFor();
    expect(await answer().getByRole('button', { name: 'Next version' }).isDisabled()).toBe(true);
    await suite.browser.screenshot('regenerated-2-of-2');

    await answer().getByRole('button', { name: 'Previous version' }).click();
    await answer().locator('.siblings .position', { hasText: '1/2' }).waitFor();
    expect(await answer().getAttribute('data-message-id')).toBe(first);
    await answer().getByRole('button', { name: 'Next version' }).click();
    await answer().locator('.siblings .position', { hasText: '2/2' }).waitFor();
    expect(await answer().getAttribute('data-message-id')).toBe(second);
  });

  it('edits the question: the new version and its answer replace the old ones, which stay one click away', async () => {
    const before = await shown();
    await question().getByRole('button', { name: 'Edit' }).click();
    const box = page().getByLabel('Edit your message');
    expect(await box.inputValue()).toBe('What is NATS JetStream?');
    await box.fill('How does Herald resume a stream?');
    await page().getByRole('button', { name: 'Save and send' }).click();
    await nextAnswer(before[1]);
    await question().locator('.siblings .position', { hasText: '2/2' }).waitFor();
    expect(await question().locator('.text').textContent()).toBe('How does Herald resume a stream?');
    const edited = await shown();
    expect(edited).toHaveLength(2);
    expect(edited.some((id) => before.includes(id))).toBe(false);
    await suite.browser.screenshot('edited-2-of-2');

    // A reload shows the active branch: the edited one.
    await page().reload();
    await page().locator('#connection.online').waitFor();
    await question().locator('.siblings .position', { hasText: '2/2' }).waitFor();
    expect(await shown()).toEqual(edited);

    // Back to the first question: its own branch, with the answer last shown there; a reload keeps it.
    await question().getByRole('button', { name: 'Previous version' }).click();
    await question().locator('.siblings .position', { hasText: '1/2' }).waitFor();
    expect(await question().locator('.text').textContent()).toBe('What is NATS JetStream?');
    expect(await shown()).toEqual(before);
    await page().reload();
    await page().locator('#connection.online').waitFor();
    await question().locator('.siblings .position', { hasText: '1/2' }).waitFor();
    expect(await shown()).toEqual(before);
  });
});
