import type { AgentEvent, TraceLevel } from '@herald/contracts';
import { HeraldClient, HeraldRequestError } from '@herald/client';
import { HeraldApi } from './api';
import { ConnectionBanner } from './connection-banner';
import { ConversationList } from './conversation-list';
import { byId, h } from './dom';
import { MessageList } from './message-list';
import { RunView } from './run-view';
import { forget, type Identity } from './sign-in';
import { UsageMeter } from './usage-meter';

const NEW = 'new';

/** The chat: conversations on the left, messages in the middle, the current run's timeline on the right. */
export class ChatApp {
  private readonly client: HeraldClient;
  private readonly api: HeraldApi;
  private readonly banner = new ConnectionBanner();
  private readonly sidebar: ConversationList;
  private readonly lists = new Map<string, MessageList>();
  private readonly runs = new Map<string, RunView>();
  private readonly latestRun = new Map<string, RunView>();
  private readonly scroller = byId('scroller');
  private readonly composer = byId<HTMLFormElement>('composer');
  private readonly input = byId<HTMLTextAreaElement>('content');
  private readonly cancelButton = byId<HTMLButtonElement>('cancel');
  private readonly usage: UsageMeter;
  private current = NEW;
  /** While a message to a new conversation awaits its ack, events of unknown conversations wait here. */
  private early?: AgentEvent[];
  /** Edits and regenerates: once one completes, the page shows the stored branch (with its ◀ i/n ▶). */
  private readonly branchRuns = new Map<string, string>();
  /** The question of each answer sent from this page (answer id → user message id), from the acks. */
  private readonly questionOf = new Map<string, string>();

  constructor(private readonly identity: Identity) {
    this.client = new HeraldClient({ url: location.origin, token: identity.token });
    this.api = new HeraldApi(identity.token);
    this.usage = new UsageMeter((day) => this.api.usage(day));
    this.sidebar = new ConversationList(byId('conversations'), (id) => void this.open(id));
  }

  async start(): Promise<void> {
    byId('app').hidden = false;
    byId('user').textContent = this.identity.userId;
    this.bindControls();
    this.client.onStatus((status) => this.banner.status(status));
    this.client.onCaughtUp((info) => this.banner.caughtUp(info));
    this.client.onEvent((event) => this.onEvent(event));
    await this.client.connect().catch((err: Error) => this.banner.status({ state: 'closed', reason: err.message }));
    void this.usage.refresh();
    const conversations = await this.api.conversations().catch(() => []);
    this.sidebar.set(conversations);
    const wanted = decodeURIComponent(location.hash.slice(1));
    await this.open(conversations.some((c) => c.id === wanted) ? wanted : (conversations[0]?.id ?? NEW));
  }

  private bindControls() {
    this.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.composer.requestSubmit();
      }
    });
    this.cancelButton.addEventListener('click', () => void this.cancel());
    byId('new-chat').addEventListener('click', () => void this.open(NEW));
    byId('sign-out').addEventListener('click', () => {
      forget();
      this.client.close();
      location.hash = '';
      location.reload();
    });
    byId('toggle-sidebar').addEventListener('click', () => document.body.classList.toggle('sidebar-open'));
  }

  private listOf(conversationId: string): MessageList {
    let list = this.lists.get(conversationId);
    if (!list) {
      list = new MessageList(
        () => this.scroller,
        {
          edit: (messageId, content) => void this.sendVersion(list!, { content, parentMessageId: messageId }, messageId),
          regenerate: (answerId, questionId) =>
            void this.sendVersion(list!, { regenerate: true, parentMessageId: questionId ?? this.questionOf.get(answerId) }, answerId),
          switchTo: (messageId) => void this.switchBranch(list!, messageId),
        },
        async (messageId, rating, comment) => (await this.client.rate(messageId, rating, comment)).feedback,
      );
      this.lists.set(conversationId, list);
    }
    return list;
  }

  /** The conversation a list shows (it changes from "new" to the conversation's id on the first ack). */
  private conversationOf(list: MessageList): string {
    for (const [id, l] of this.lists) if (l === list) return id;
    return NEW;
  }

  /**
   * An edit (new content for a user message) or a regenerate (another answer): what follows
   * the message on screen goes, the new version streams in its place, and once stored the
   * page shows the stored branch.
   */
  private async sendVersion(
    list: MessageList,
    version: { content?: string; regenerate?: boolean; parentMessageId?: string },
    from: string,
  ) {
    const conversationId = this.conversationOf(list);
    list.truncateFrom(from);
    const bubble = version.content === undefined ? undefined : list.addUser(version.content);
    try {
      const ack = await this.client.send(version.content ?? '', {
        conversationId,
        parentMessageId: version.parentMessageId,
        regenerate: version.regenerate,
        clientMessageId: crypto.randomUUID(),
        stream: byId<HTMLInputElement>('stream').checked,
        traceLevel: byId<HTMLSelectElement>('trace').value as TraceLevel,
      });
      this.branchRuns.set(ack.runId, ack.messageId);
      this.questionOf.set(ack.messageId, ack.userMessageId);
      if (bubble) list.identify(bubble, ack.userMessageId);
    } catch (err) {
      list.ended(undefined, 'failed', `Not sent: ${(err as Error).message}`);
      await this.reload(list);
    }
  }

  /** ◀ ▶: the branch through that version becomes the conversation's active one (also after a reload). */
  private async switchBranch(list: MessageList, messageId: string) {
    try {
      await this.api.switchBranch(this.conversationOf(list), messageId);
      await this.reload(list);
    } catch (err) {
      list.ended(undefined, 'failed', `Could not show that version: ${(err as Error).message}`);
    }
  }

  /** Shows the stored active branch; with `leaf`, waits (briefly) until it ends there: the answer is stored just after its run ends. */
  private async reload(list: MessageList, leaf?: string) {
    const conversationId = this.conversationOf(list);
    if (conversationId === NEW) return;
    let page = await this.api.messages(conversationId);
    for (let tries = 0; leaf && page.messages.at(-1)?.id !== leaf && tries < 20; tries++) {
      await new Promise((r) => setTimeout(r, 150));
      page = await this.api.messages(conversationId);
    }
    list.showStored(page, (before) => this.api.messages(conversationId, before));
  }

  async open(conversationId: string): Promise<void> {
    this.current = conversationId;
    document.body.classList.remove('sidebar-open');
    history.replaceState(null, '', conversationId === NEW ? location.pathname : `#${conversationId}`);
    const list = this.listOf(conversationId);
    byId('messages-host').replaceChildren(list.root);
    byId('empty-state').hidden = conversationId !== NEW || list.root.childElementCount > 0;
    this.showRun();
    this.sidebar.render(conversationId === NEW ? null : conversationId);
    if (conversationId !== NEW && !list.loaded) {
      try {
        list.showStored(await this.api.messages(conversationId), (before) => this.api.messages(conversationId, before));
      } catch (err) {
        list.ended(undefined, 'failed', `Could not load this conversation: ${(err as Error).message}`);
      }
      this.scroller.scrollTop = this.scroller.scrollHeight;
    }
    this.input.focus();
  }

  private showRun() {
    const run = this.latestRun.get(this.current);
    byId('timeline-host').replaceChildren(
      run?.root ?? h('p', { class: 'timeline-empty' }, 'Ask something and watch the agents work: each step appears here as it happens.'),
    );
    this.cancelButton.hidden = !run?.active;
  }

  private async send() {
    const content = this.input.value.trim();
    if (!content) return;
    const conversationId = this.current;
    const list = this.listOf(conversationId);
    byId('empty-state').hidden = true;
    const bubble = list.addUser(content);
    this.input.value = '';
    if (conversationId === NEW) this.early = [];
    try {
      const ack = await this.client.send(content, {
        conversationId,
        clientMessageId: crypto.randomUUID(),
        stream: byId<HTMLInputElement>('stream').checked,
        traceLevel: byId<HTMLSelectElement>('trace').value as TraceLevel,
      });
      list.identify(bubble, ack.userMessageId);
      this.questionOf.set(ack.messageId, ack.userMessageId);
      if (conversationId === NEW) this.adoptNewConversation(ack.conversationId, content, list);
    } catch (err) {
      const quota = err instanceof HeraldRequestError && err.code === 'QUOTA_EXCEEDED';
      if (quota) this.usage.spent(err.retryAfterMs);
      const retry =
        !quota && err instanceof HeraldRequestError && err.retryAfterMs ? ` Try again in ${Math.ceil(err.retryAfterMs / 1000)} s.` : '';
      list.ended(undefined, 'failed', `Not sent: ${(err as Error).message}${retry}`);
      if (!this.input.value) this.input.value = content;
      this.early = undefined;
    }
  }

  /** The ack named the new conversation: its list, the sidebar and the URL take its id, and held events play. */
  private adoptNewConversation(id: string, content: string, list: MessageList) {
    this.lists.delete(NEW);
    this.lists.set(id, list);
    list.loaded = true;
    this.sidebar.touch(id, content.split('\n')[0].slice(0, 80));
    if (this.current === NEW) {
      this.current = id;
      history.replaceState(null, '', `#${id}`);
    }
    const early = this.early ?? [];
    this.early = undefined;
    early.forEach((event) => this.onEvent(event));
    this.sidebar.render(this.current === NEW ? null : this.current);
  }

  private async cancel() {
    const run = this.latestRun.get(this.current);
    if (!run?.active) return;
    this.cancelButton.disabled = true;
    try {
      await this.client.cancel(run.runId);
    } catch (err) {
      this.listOf(this.current).ended(undefined, 'failed', `Could not cancel: ${(err as Error).message}`);
    } finally {
      this.cancelButton.disabled = false;
    }
  }

  private onEvent(event: AgentEvent) {
    const conversationId = event.conversationId;
    if (this.early && !this.lists.has(conversationId) && !this.runs.has(event.runId)) {
      this.early.push(event);
      return;
    }
    let run = this.runs.get(event.runId);
    if (!run) {
      run = new RunView(event.runId, conversationId, (runId, requestId, response) => this.client.respond(runId, requestId, response));
      this.runs.set(event.runId, run);
      this.latestRun.set(conversationId, run);
    }
    run.apply(event);
    this.showMessages(event);
    if (event.type === 'orchestration_completed' || event.type === 'run_cancelled' || event.type === 'error') this.usage.runEnded();
    if (event.type === 'run_queued' || event.type === 'orchestration_started') this.sidebar.setBusy(conversationId, true);
    if (!run.active) this.sidebar.setBusy(conversationId, false);
    if (event.type === 'orchestration_started' || !run.active) {
      this.sidebar.touch(conversationId);
      this.sidebar.render(this.current === NEW ? null : this.current);
    }
    if (conversationId === this.current && byId('timeline-host').firstElementChild !== this.latestRun.get(conversationId)?.root)
      this.showRun();
    if (conversationId === this.current) this.cancelButton.hidden = !this.latestRun.get(conversationId)?.active;
  }

  private showMessages(event: AgentEvent) {
    const list = this.lists.get(event.conversationId);
    if (!list) return; // not opened in this tab: its stored messages load when it is
    switch (event.type) {
      case 'message_delta':
        list.delta(event.data.messageId, event.data.delta);
        break;
      case 'message':
        list.final(event.data);
        break;
      case 'orchestration_completed': {
        list.settle();
        const leaf = this.branchRuns.get(event.runId);
        if (leaf) {
          this.branchRuns.delete(event.runId);
          void this.reload(list, leaf).catch(() => undefined);
        }
        break;
      }
      case 'run_cancelled':
        list.ended(this.messageIdOf(event.runId), 'cancelled', 'Run cancelled. Nothing was stored for it.');
        break;
      case 'error':
        list.ended(this.messageIdOf(event.runId), 'failed', event.data.message);
        break;
      // The run's steps: the run view shows them, the message list has nothing to change.
      case 'run_queued':
      case 'orchestration_started':
      case 'agent_started':
      case 'agent_thinking':
      case 'agent_completed':
      case 'tool_executing':
      case 'tool_progress':
      case 'tool_completed':
      case 'approval_requested':
      case 'clarification_requested':
      case 'status':
        break;
    }
  }

  private messageIdOf(runId: string): string | undefined {
    return this.runs.get(runId)?.messageId;
  }
}
