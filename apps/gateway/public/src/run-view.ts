import type { AgentEvent, EventData } from '@herald/contracts';
import type { RunResponse } from '@herald/client';
import { formatDuration, formatJson, h } from './dom';

export type Respond = (runId: string, requestId: string, response: RunResponse) => Promise<unknown>;

const STATE_TEXT = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting for you',
  completed: 'Done',
  cancelled: 'Cancelled',
  failed: 'Failed',
};
type RunState = keyof typeof STATE_TEXT;

/**
 * The live timeline of one run, built from its events: a header with status text, state
 * and progress bar, then one row per step (open while its agent works, closed with its
 * duration), holding its thoughts and its tool calls (input and output collapsed), the prompts
 * the run waits on (answered in place) and the run's end. Steps that run at once (a parallel
 * stage) are lanes side by side in one group; events find their row by `stepId`.
 */
export class RunView {
  readonly root: HTMLElement;
  state: RunState = 'running';
  /** The id of the answer this run streams (from `message_delta` / `message`). */
  messageId?: string;
  private readonly statusText = h('p', { class: 'run-status', role: 'status' }, 'Starting…');
  private readonly badge = h('span', { class: 'badge running' }, STATE_TEXT.running);
  private readonly bar = h('div', { class: 'bar' });
  private readonly progress = h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-label': 'Run progress', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 },
    this.bar,
  );
  private readonly steps = h('ol', { class: 'steps' });
  /** The rows of the steps, by stepId (by agent for events stored before stepId existed). */
  private readonly agents = new Map<string, HTMLElement>();
  /** The group of lanes of the steps running at once, while one of them is still open. */
  private lanes?: HTMLElement;
  private readonly tools = new Map<string, HTMLDetailsElement>();
  private readonly prompts = new Map<string, HTMLElement>();

  constructor(
    readonly runId: string,
    readonly conversationId: string,
    private readonly respond: Respond,
  ) {
    this.root = h(
      'section',
      { class: 'run', 'data-run-id': runId, 'aria-label': 'Run' },
      h('div', { class: 'run-head' }, this.badge, this.statusText),
      this.progress,
      this.steps,
    );
  }

  get active(): boolean {
    return this.state === 'queued' || this.state === 'running' || this.state === 'waiting';
  }

  apply(event: AgentEvent): void {
    this.setProgress(event.progress);
    if (event.type === 'message_delta' || event.type === 'message') this.messageId = event.data.messageId;
    switch (event.type) {
      case 'run_queued':
        this.setState('queued', `Waiting for ${event.data.position} earlier run${event.data.position > 1 ? 's' : ''} to finish…`);
        break;
      case 'orchestration_started':
        this.setState('running', 'Started');
        if (event.data.intent) this.note(`Intent: ${event.data.intent}`);
        break;
      case 'status':
        this.statusText.textContent = event.data.message;
        if (this.state === 'waiting') this.setState('running');
        break;
      case 'agent_started':
        this.agentStarted(event.data);
        break;
      case 'agent_thinking':
        this.agentBody(event.data).append(h('p', { class: 'thought' }, event.data.thought));
        break;
      case 'tool_executing':
        this.toolStarted(event.data);
        break;
      case 'tool_progress':
        this.toolProgress(event.data);
        break;
      case 'tool_completed':
        this.toolCompleted(event.data);
        break;
      case 'agent_completed':
        this.agentCompleted(event.data);
        break;
      case 'clarification_requested':
        this.setState('waiting', event.data.question);
        this.prompt(event.data.requestId, this.clarification(event.data));
        break;
      case 'approval_requested':
        this.setState('waiting', `Approval needed: ${event.data.action}`);
        this.prompt(event.data.requestId, this.approval(event.data));
        break;
      case 'message': {
        const n = event.data.metadata.sources.length;
        this.note(`Answer ready: ${event.data.content.length} characters${n ? `, ${n} source${n === 1 ? '' : 's'}` : ''}`);
        break;
      }
      case 'orchestration_completed':
        this.finish('completed', `Completed in ${formatDuration(event.data.durationMs)}`, event);
        break;
      case 'run_cancelled':
        this.finish('cancelled', `Cancelled (${event.data.reason})`, event);
        break;
      case 'error':
        this.finish('failed', event.data.message, event);
        break;
      case 'message_delta':
        break;
    }
  }

  private setState(state: RunState, text?: string) {
    this.state = state;
    this.badge.className = `badge ${state}`;
    this.badge.textContent = STATE_TEXT[state];
    if (text) this.statusText.textContent = text;
    this.root.dataset.state = state;
  }

  private setProgress(progress: number) {
    const percent = Math.round(progress * 100);
    this.bar.style.width = `${percent}%`;
    this.progress.setAttribute('aria-valuenow', String(percent));
  }

  private note(text: string) {
    this.steps.append(h('li', { class: 'step note' }, text));
  }

  private agentStarted(data: EventData<'agent_started'>) {
    const body = h('div', { class: 'agent-body' });
    const row = h(
      'li',
      { class: 'step agent open', 'data-agent': data.agent, 'data-step-id': data.stepId },
      h(
        'div',
        { class: 'agent-head' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        h('strong', {}, data.agent),
        h('span', { class: 'agent-meta' }, 'working…'),
      ),
      data.description ? h('p', { class: 'agent-description' }, data.description) : null,
      body,
    );
    this.agents.set(stepKey(data), row);
    this.place(row);
  }

  /**
   * A step that starts while another is still open runs beside it: both become lanes of one
   * group (the open row moves into it), and so does any other step starting before they end.
   */
  private place(row: HTMLElement) {
    const lanes = this.lanes?.querySelector('.lanes');
    if (lanes && this.lanes!.querySelector('.step.agent.open')) {
      lanes.append(row);
      return;
    }
    const last = this.steps.lastElementChild;
    if (last?.matches('.step.agent.open')) {
      const group = h('ol', { class: 'lanes' });
      this.lanes = h('li', { class: 'step parallel', 'aria-label': 'Steps running in parallel' }, group);
      last.replaceWith(this.lanes);
      group.append(last, row);
      return;
    }
    this.lanes = undefined;
    this.steps.append(row);
  }

  /** The body of the step's row (a row is made if the run started mid-way, e.g. a resumed page). */
  private agentBody(data: { agent: string; stepId?: string }): HTMLElement {
    if (!this.agents.has(stepKey(data))) this.agentStarted({ agent: data.agent, stepId: data.stepId });
    return this.agents.get(stepKey(data))!.querySelector('.agent-body') as HTMLElement;
  }

  private agentCompleted(data: EventData<'agent_completed'>) {
    const row = this.agents.get(stepKey(data));
    if (!row) return;
    row.classList.replace('open', 'closed');
    row.querySelector('.agent-meta')!.textContent = formatDuration(data.durationMs);
    if (data.summary) row.querySelector('.agent-body')!.append(h('p', { class: 'agent-summary' }, data.summary));
  }

  private toolStarted(data: EventData<'tool_executing'>) {
    const call = h(
      'details',
      { class: 'tool running', 'data-call-id': data.callId },
      h('summary', {}, h('span', { class: 'tool-name' }, data.tool), h('span', { class: 'tool-meta' }, 'running…')),
      h('div', { class: 'tool-io' }, h('h4', {}, 'Input'), h('pre', {}, formatJson(data.input))),
    );
    this.tools.set(data.callId, call);
    this.agentBody(data).append(call);
  }

  private toolProgress(data: EventData<'tool_progress'>) {
    const call = this.tools.get(data.callId);
    if (!call?.classList.contains('running')) return;
    const done = data.total ? `${Math.min(100, Math.round((100 * data.progress) / data.total))}%` : `${data.progress}`;
    call.querySelector('.tool-meta')!.textContent = data.message ? `${done} · ${data.message}` : `${done}…`;
  }

  private toolCompleted(data: EventData<'tool_completed'>) {
    const call = this.tools.get(data.callId);
    if (!call) return;
    call.classList.replace('running', data.ok ? 'ok' : 'failed');
    call.querySelector('.tool-meta')!.textContent = `${data.ok ? '✓' : '✕'} ${formatDuration(data.durationMs)}`;
    call
      .querySelector('.tool-io')!
      .append(h('h4', {}, data.ok ? 'Output' : 'Error'), h('pre', {}, data.ok ? formatJson(data.output) : (data.error ?? 'failed')));
  }

  private prompt(requestId: string, body: HTMLElement) {
    this.prompts.get(requestId)?.remove();
    const item = h('li', { class: 'step prompt' }, body);
    this.prompts.set(requestId, item);
    this.steps.append(item);
    item.querySelector<HTMLElement>('input, button')?.focus();
  }

  private clarification(data: EventData<'clarification_requested'>): HTMLElement {
    const input = h('input', { type: 'text', name: 'answer', required: true, 'aria-label': 'Your answer', placeholder: 'Your answer' });
    const form = h(
      'form',
      { class: 'prompt-form' },
      h('p', { class: 'prompt-question' }, data.question),
      data.choices?.length
        ? h(
            'div',
            { class: 'choices' },
            ...data.choices.map((choice) =>
              h('button', { type: 'button', class: 'chip', onclick: () => void this.answer(form, data.requestId, choice, choice) }, choice),
            ),
          )
        : null,
      h('div', { class: 'prompt-row' }, input, h('button', { type: 'submit' }, 'Answer')),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (input.value.trim()) void this.answer(form, data.requestId, input.value.trim(), input.value.trim());
    });
    return form;
  }

  private approval(data: EventData<'approval_requested'>): HTMLElement {
    const form = h(
      'form',
      { class: 'prompt-form' },
      h('p', { class: 'prompt-question' }, `Approve: ${data.action}?`),
      data.details === undefined ? null : h('pre', { class: 'prompt-details' }, formatJson(data.details)),
      h(
        'div',
        { class: 'prompt-row' },
        h(
          'button',
          { type: 'button', class: 'approve', onclick: () => void this.answer(form, data.requestId, { approved: true }, 'Approved') },
          'Approve',
        ),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => void this.answer(form, data.requestId, { approved: false }, 'Rejected') },
          'Reject',
        ),
      ),
    );
    form.addEventListener('submit', (e) => e.preventDefault());
    return form;
  }

  private async answer(form: HTMLElement, requestId: string, response: RunResponse, label: string) {
    form.querySelectorAll('button, input').forEach((el) => ((el as HTMLButtonElement).disabled = true));
    try {
      await this.respond(this.runId, requestId, response);
      form.closest('.step')?.classList.add('answered');
      form.replaceWith(h('p', { class: 'prompt-answered' }, `You answered: ${label}`));
    } catch (err) {
      form.querySelectorAll('button, input').forEach((el) => ((el as HTMLButtonElement).disabled = false));
      form.append(h('p', { class: 'prompt-error', role: 'alert' }, (err as Error).message));
    }
  }

  private finish(state: RunState, text: string, event: AgentEvent) {
    this.setState(state, text);
    // Rows still open when the run ended (cancel, error) are closed as interrupted.
    for (const row of this.agents.values()) {
      if (row.classList.contains('open')) {
        row.classList.replace('open', 'closed');
        row.classList.add('interrupted');
        row.querySelector('.agent-meta')!.textContent = 'stopped';
      }
    }
    for (const call of this.tools.values()) if (call.classList.contains('running')) call.classList.replace('running', 'failed');
    for (const prompt of this.prompts.values())
      prompt.querySelectorAll('button, input').forEach((el) => ((el as HTMLButtonElement).disabled = true));
    this.steps.append(h('li', { class: `step end ${state}` }, text));
    this.root.dataset.ended = event.type;
  }
}

/** Which row an agent_* or tool_* event belongs to: its step, or its agent when it has no stepId (older events). */
function stepKey(data: { agent: string; stepId?: string }): string {
  return data.stepId ?? data.agent;
}
