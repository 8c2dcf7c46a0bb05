import type { DataOutput, EventData, ListMessagesReply, StoredMessage } from '@herald/contracts';
import { renderAnswer } from './answer-text';
import { h, stickToBottom } from './dom';
import { feedbackBar, type RateAnswer } from './feedback-bar';

type Source = EventData<'message'>['metadata']['sources'][number];
type Export = NonNullable<DataOutput['export']>;

/** What the page does when a person edits a message, asks for another answer or pages between versions (PROTOCOL.md §10). */
export interface BranchActions {
  /** Send `content` as a new version of user message `messageId`. */
  edit(messageId: string, content: string): void;
  /** Answer again the question of answer `answerId` (`questionId` when known). */
  regenerate(answerId: string, questionId: string | null): void;
  /** Show the branch through this message (a sibling of one on screen). */
  switchTo(messageId: string): void;
}

/** A message's place in the tree, when the page knows it. */
interface Place {
  parentId: string | null;
  siblingIds: string[];
}

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
    private readonly actions: BranchActions,
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
    const place = { parentId: m.parentId, siblingIds: m.siblingIds };
    if (m.role === 'user') {
      const bubble = this.bubble('user', m.content);
      this.identify(bubble, m.id, place);
      return bubble;
    }
    return this.answer(m.id, m.content, sourcesOf(m.metadata), exportOf(m.metadata), place, m.feedback);
  }

  /** The user's new message; `identify` gives it its stored id (and its Edit button) once the send is acknowledged. */
  addUser(content: string, pending = true): HTMLElement {
    const bubble = this.bubble('user', content, pending);
    this.append(bubble);
    return bubble;
  }

  /** A user message's stored id: it can be edited from now on. */
  identify(bubble: HTMLElement, messageId: string, place?: Place): void {
    bubble.dataset.messageId = messageId;
    bubble.querySelector('.msg-tools')?.remove();
    bubble.append(
      this.tools(
        messageId,
        place,
        h('button', { type: 'button', class: 'edit', onclick: () => this.startEditing(bubble, messageId) }, 'Edit'),
      ),
    );
  }

  /** Removes message `messageId` and everything after it: a new version of it is on its way. */
  truncateFrom(messageId: string): void {
    const from = this.root.querySelector(`[data-message-id="${CSS.escape(messageId)}"]`);
    if (!from) return;
    for (let node = from.nextSibling; node; node = from.nextSibling) node.remove();
    from.remove();
  }

  /** The edit box in place of a user message's text: Save sends the new version, Cancel (or Escape) puts the text back. */
  private startEditing(bubble: HTMLElement, messageId: string): void {
    const text = bubble.querySelector<HTMLElement>('.text');
    if (!text || bubble.querySelector('form')) return;
    const box = h('textarea', { class: 'edit-box', 'aria-label': 'Edit your message', rows: 3 });
    box.value = text.textContent ?? '';
    const done = () => {
      form.replaceWith(text);
      bubble.querySelector<HTMLButtonElement>('.edit')?.focus();
    };
    const form = h(
      'form',
      {
        class: 'edit-form',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const content = box.value.trim();
          if (content === '') return;
          done();
          this.actions.edit(messageId, content);
        },
      },
      box,
      h(
        'div',
        { class: 'edit-actions' },
        h('button', { type: 'submit' }, 'Save and send'),
        h('button', { type: 'button', onclick: done }, 'Cancel'),
      ),
    );
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') done();
      else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    text.replaceWith(form);
    box.focus();
  }

  /** A message's buttons: ◀ i/n ▶ between its versions (when it has several), then `action`. */
  private tools(messageId: string, place: Place | undefined, action: HTMLElement): HTMLElement {
    const siblings = place?.siblingIds ?? [];
    const at = siblings.indexOf(messageId);
    const nav =
      siblings.length > 1 && at >= 0
        ? h(
            'span',
            { class: 'siblings', role: 'group', 'aria-label': 'Versions' },
            h(
              'button',
              {
                type: 'button',
                class: 'prev',
                'aria-label': 'Previous version',
                disabled: at === 0,
                onclick: () => this.actions.switchTo(siblings[at - 1]),
              },
              '◀',
            ),
            h('span', { class: 'position' }, `${at + 1}/${siblings.length}`),
            h(
              'button',
              {
                type: 'button',
                class: 'next',
                'aria-label': 'Next version',
                disabled: at === siblings.length - 1,
                onclick: () => this.actions.switchTo(siblings[at + 1]),
              },
              '▶',
            ),
          )
        : null;
    return h('div', { class: 'msg-tools' }, nav, action);
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
    place?: Place,
    feedback?: StoredMessage['feedback'],
  ): HTMLElement {
    const regenerate = h(
      'button',
      { type: 'button', class: 'regenerate', onclick: () => this.actions.regenerate(messageId, place?.parentId ?? null) },
      'Regenerate',
    );
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
      this.tools(messageId, place, regenerate),
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
