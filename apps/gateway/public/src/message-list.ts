import type { DataOutput, EventData, ListMessagesReply, StoredMessage } from '@herald/contracts';
import { renderAnswer } from './answer-text';
import { h, stickToBottom } from './dom';
import { feedbackBar, type RateAnswer } from './feedback-bar';

type Source = EventData<'message'>['metadata']['sources'][number];
type Export = NonNullable<DataOutput['export']>;

/**
 * The messages of one conversation: the stored ones (from HTTP), the user's new ones, and
 * the assistant's answer streaming in (`message_delta`) until the final `message`.
 */
export class MessageList {
  readonly root = h('div', { class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  private readonly answers = new Map<string, HTMLElement>();
  loaded = false;

  constructor(
    private readonly scroller: () => HTMLElement,
    private readonly rate: RateAnswer,
  ) {}

  /**
   * The newest page of stored messages. When older ones remain, an "Older messages" button
   * above them asks `loadOlder` for the page before, and so on back to the first message.
   */
  showStored(page: ListMessagesReply, loadOlder: (before: string) => Promise<ListMessagesReply>): void {
    const live = [...this.root.children];
    this.root.replaceChildren(...page.messages.map((m) => this.stored(m)));
    this.offerOlder(page.nextBefore, loadOlder);
    // Bubbles of a run that is still going (not stored yet) stay after the stored ones.
    for (const node of live) if (node instanceof HTMLElement && node.dataset.pending && !this.root.contains(node)) this.root.append(node);
    this.loaded = true;
  }

  /** The button that loads the page before `before` above the others, keeping what is on screen in place. */
  private offerOlder(before: string | null, loadOlder: (before: string) => Promise<ListMessagesReply>): void {
    if (!before) return;
    const button: HTMLButtonElement = h(
      'button',
      { type: 'button', class: 'older', onclick: () => void this.loadOlder(button, before, loadOlder) },
      'Older messages',
    );
    this.root.prepend(button);
  }

  private async loadOlder(button: HTMLButtonElement, before: string, loadOlder: (before: string) => Promise<ListMessagesReply>) {
    button.disabled = true;
    button.textContent = 'Loading…';
    try {
      const page = await loadOlder(before);
      const scroller = this.scroller();
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      button.replaceWith(...page.messages.map((m) => this.stored(m)));
      this.offerOlder(page.nextBefore, loadOlder);
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
    } catch (err) {
      button.disabled = false;
      button.textContent = `Could not load older messages (${(err as Error).message}). Try again`;
    }
  }

  private stored(m: StoredMessage): HTMLElement {
    return m.role === 'user'
      ? this.bubble('user', m.content)
      : this.answer(m.id, m.content, sourcesOf(m.metadata), exportOf(m.metadata), m.feedback);
  }

  addUser(content: string, pending = true): void {
    this.append(this.bubble('user', content, pending));
  }

  delta(messageId: string, delta: string): void {
    stickToBottom(this.scroller(), () => {
      const bubble = this.answerBubble(messageId);
      bubble.querySelector('.text')!.append(delta);
    });
  }

  final(data: EventData<'message'>): void {
    stickToBottom(this.scroller(), () => {
      const bubble = this.answerBubble(data.messageId);
      bubble.replaceWith(this.answer(data.messageId, data.content, data.metadata.sources, exportOf(data.metadata)));
    });
  }

  /** A run ended without an answer: the answer placeholder becomes a notice. */
  ended(messageId: string | undefined, kind: 'cancelled' | 'failed', text: string): void {
    if (messageId) this.answers.get(messageId)?.remove();
    for (const node of this.root.querySelectorAll<HTMLElement>('[data-pending]')) delete node.dataset.pending;
    this.append(h('div', { class: `notice ${kind}`, role: kind === 'failed' ? 'alert' : undefined }, text));
  }

  settle(): void {
    for (const node of this.root.querySelectorAll<HTMLElement>('[data-pending]')) delete node.dataset.pending;
  }

  private append(node: HTMLElement) {
    stickToBottom(this.scroller(), () => this.root.append(node));
    this.scroller().scrollTop = this.scroller().scrollHeight;
  }

  private answerBubble(messageId: string): HTMLElement {
    let bubble = this.answers.get(messageId);
    if (!bubble) {
      bubble = h(
        'article',
        { class: 'msg assistant streaming', 'data-message-id': messageId, 'data-pending': 'true' },
        h('div', { class: 'text' }),
      );
      this.answers.set(messageId, bubble);
      this.root.append(bubble);
    }
    return bubble;
  }

  private bubble(role: 'user', content: string, pending = false): HTMLElement {
    return h('article', { class: `msg ${role}`, 'data-pending': pending ? 'true' : undefined }, h('div', { class: 'text' }, content));
  }

  private answer(
    messageId: string,
    content: string,
    sources: Source[],
    exported?: Export,
    feedback?: StoredMessage['feedback'],
  ): HTMLElement {
    const node = h(
      'article',
      { class: 'msg assistant', 'data-message-id': messageId },
      h('div', { class: 'text' }, ...renderAnswer(content)),
      exported
        ? h(
            'a',
            {
              class: 'download',
              download: exported.filename,
              href: URL.createObjectURL(new Blob([exported.content], { type: 'text/csv' })),
            },
            `Download ${exported.filename}`,
          )
        : null,
      sources.length
        ? h(
            'ul',
            { class: 'sources', 'aria-label': 'Sources' },
            ...sources.map((s) => h('li', { title: `relevance ${s.score.toFixed(2)}` }, s.title)),
          )
        : null,
      feedbackBar(messageId, feedback, this.rate),
    );
    this.answers.set(messageId, node);
    return node;
  }
}

function sourcesOf(metadata: Record<string, unknown> | null): Source[] {
  const sources = metadata?.sources;
  return Array.isArray(sources) ? sources.filter((s): s is Source => typeof s?.title === 'string' && typeof s?.score === 'number') : [];
}

/** The CSV the user approved exporting (the data agent's `metadata.export`). */
function exportOf(metadata: Record<string, unknown> | null): Export | undefined {
  const e = metadata?.export as Partial<Export> | undefined;
  return typeof e?.filename === 'string' && typeof e.content === 'string' ? (e as Export) : undefined;
}
