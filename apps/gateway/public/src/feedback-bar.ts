import type { FeedbackRating, MessageFeedbackState } from '@herald/contracts';
import { h } from './dom';

/** `message:feedback`: resolves with the rating now stored (null once removed); rejects with the server's refusal. */
export type RateAnswer = (messageId: string, rating: FeedbackRating | null, comment?: string) => Promise<MessageFeedbackState | null>;

const MAX_COMMENT_CHARS = 2000;
/** A rating sent right after the answer arrived may reach storage before the answer does: asked again a few times. */
const NOT_STORED_RETRIES = 5;
const NOT_STORED_RETRY_MS = 400;

/**
 * 👍/👎 under an assistant message, with an optional comment once rated: pressing the
 * pressed rating again removes it. The state comes from the stored message (`feedback`), so
 * a reload shows what the user said.
 */
export function feedbackBar(messageId: string, initial: MessageFeedbackState | null | undefined, rate: RateAnswer): HTMLElement {
  let state = initial ?? null;
  const status = h('span', { class: 'feedback-status', role: 'status' });
  const comment = h('textarea', {
    class: 'feedback-comment',
    rows: 2,
    maxlength: MAX_COMMENT_CHARS,
    placeholder: 'What was good or wrong? (optional)',
    'aria-label': 'Comment on this answer',
  });
  const save: HTMLButtonElement = h('button', { type: 'submit', class: 'feedback-save' }, 'Save comment');
  const form = h(
    'form',
    { class: 'feedback-form', onsubmit: (e: Event) => (e.preventDefault(), void send(state?.rating ?? null, true)) },
    comment,
    save,
  );
  const buttons = (['up', 'down'] as const).map((rating) =>
    h(
      'button',
      {
        type: 'button',
        class: `feedback-${rating}`,
        'data-rating': rating,
        'aria-label': rating === 'up' ? 'Good answer' : 'Bad answer',
        title: rating === 'up' ? 'Good answer' : 'Bad answer',
        onclick: () => void send(state?.rating === rating ? null : rating, false),
      },
      rating === 'up' ? '👍' : '👎',
    ),
  );
  const bar = h('div', { class: 'feedback', role: 'group', 'aria-label': 'Rate this answer' }, ...buttons, status, form);

  function show(): void {
    for (const b of buttons) b.setAttribute('aria-pressed', String(state?.rating === b.dataset.rating));
    form.hidden = !state;
    comment.value = state?.comment ?? '';
  }

  async function send(rating: FeedbackRating | null, withComment: boolean): Promise<void> {
    if (rating === null && withComment) return;
    const text = withComment ? comment.value.trim() : state?.comment;
    for (const b of [...buttons, save]) b.disabled = true;
    status.textContent = 'Saving…';
    try {
      state = await withRetries(() => rate(messageId, rating, rating && text ? text : undefined));
      status.textContent = state ? (withComment ? 'Comment saved.' : 'Thanks for the feedback.') : 'Rating removed.';
    } catch (err) {
      status.textContent = `Could not save: ${(err as Error).message}`;
    } finally {
      for (const b of [...buttons, save]) b.disabled = false;
      show();
    }
  }

  show();
  return bar;
}

async function withRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if ((err as { code?: string }).code !== 'NOT_FOUND' || attempt >= NOT_STORED_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, NOT_STORED_RETRY_MS));
    }
  }
}
