import type { Conversation } from '@herald/contracts';
import { h, relativeTime } from './dom';

/** The sidebar: the user's conversations, newest first, with the open one marked and live ones pulsing. */
export class ConversationList {
  private conversations: Conversation[] = [];
  private readonly busy = new Set<string>();

  constructor(
    private readonly root: HTMLElement,
    private readonly open: (id: string) => void,
  ) {}

  set(conversations: Conversation[]): void {
    this.conversations = conversations;
  }

  /** A conversation had activity: it moves to the top (a new one is added with this title). */
  touch(id: string, title?: string): void {
    const existing = this.conversations.find((c) => c.id === id);
    const now = new Date().toISOString();
    const updated = existing ? { ...existing, updatedAt: now } : { id, title: title ?? 'New conversation', createdAt: now, updatedAt: now };
    this.conversations = [updated, ...this.conversations.filter((c) => c.id !== id)];
  }

  setBusy(id: string, busy: boolean): void {
    if (busy) this.busy.add(id);
    else this.busy.delete(id);
  }

  render(currentId: string | null): void {
    if (!this.conversations.length) {
      this.root.replaceChildren(h('li', { class: 'empty' }, 'No conversations yet.'));
      return;
    }
    this.root.replaceChildren(
      ...this.conversations.map((c) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'conversation',
              'aria-current': c.id === currentId ? 'page' : undefined,
              'data-id': c.id,
              onclick: () => this.open(c.id),
            },
            h('span', { class: 'title' }, c.title || 'Untitled'),
            h(
              'span',
              { class: 'when' },
              this.busy.has(c.id) ? h('span', { class: 'live-dot', 'aria-label': 'running' }) : null,
              relativeTime(c.updatedAt),
            ),
          ),
        ),
      ),
    );
  }
}
