import type { ListMessagesReply } from '@herald/contracts';
import { browserSuite } from '../support/browser';

/**
 * Rating answers on the web page in Chromium, against the four services as real processes:
 * 👍/👎 under an answer, a comment, the rating stored (read back over HTTP), shown again after
 * a reload, and removed by pressing the pressed button again.
 */
describe('feedback on the web page', () => {
  const suite = browserSuite({ gateways: 1, env: { DEV_TOKENS: 'true' } });
  const page = suite.page;

  /** The stored assistant message's feedback, read over HTTP as the page's user. */
  async function storedFeedback(conversationId: string) {
    const res = await suite.cluster.http(`/v1/conversations/${conversationId}/messages`, { userId: 'rita' });
    const { messages } = (await res.json()) as ListMessagesReply;
    return messages.find((m) => m.role === 'assistant')?.feedback;
  }

  it('rates an answer, comments on it, finds both after a reload, and takes the rating back', async () => {
    await suite.signIn('rita');
    await page().fill('#content', 'What is NATS JetStream?');
    await page().press('#content', 'Enter');
    await page().locator('.timeline .run[data-state="completed"]').waitFor({ timeout: 60_000 });

    const answer = page().locator('.msg.assistant').last();
    const bar = answer.getByRole('group', { name: 'Rate this answer' });
    const up = bar.getByRole('button', { name: 'Good answer' });
    const down = bar.getByRole('button', { name: 'Bad answer' });
    expect(await up.getAttribute('aria-pressed')).toBe('false');
    expect(await down.getAttribute('aria-pressed')).toBe('false');
    expect(await bar.locator('.feedback-form').isHidden()).toBe(true);

    await down.click();
    await bar.getByText('Thanks for the feedback.').waitFor();
    expect(await down.getAttribute('aria-pressed')).toBe('true');
    expect(await up.getAttribute('aria-pressed')).toBe('false');
    await bar.getByLabel('Comment on this answer').fill('  It does not say how streams are replicated.  ');
    await bar.getByRole('button', { name: 'Save comment' }).click();
    await bar.getByText('Comment saved.').waitFor();

    const conversationId = decodeURIComponent(new URL(page().url()).hash.slice(1));
    expect(await storedFeedback(conversationId)).toEqual({
      rating: 'down',
      comment: 'It does not say how streams are replicated.',
      updatedAt: expect.any(String),
    });
    await suite.browser.screenshot('feedback-rated');

    await page().reload();
    await page().locator('#connection.online').waitFor();
    const restored = page().locator('.msg.assistant').last().getByRole('group', { name: 'Rate this answer' });
    await restored.waitFor();
    expect(await restored.getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed')).toBe('true');
    expect(await restored.getByLabel('Comment on this answer').inputValue()).toBe('It does not say how streams are replicated.');

    // Switching to 👍 keeps the comment; pressing 👍 again removes the rating.
    await restored.getByRole('button', { name: 'Good answer' }).click();
    await restored.getByText('Thanks for the feedback.').waitFor();
    expect(await storedFeedback(conversationId)).toMatchObject({ rating: 'up', comment: 'It does not say how streams are replicated.' });
    await restored.getByRole('button', { name: 'Good answer' }).click();
    await restored.getByText('Rating removed.').waitFor();
    expect(await restored.getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed')).toBe('false');
    expect(await restored.locator('.feedback-form').isHidden()).toBe(true);
    expect(await storedFeedback(conversationId)).toBeNull();
  });
});
