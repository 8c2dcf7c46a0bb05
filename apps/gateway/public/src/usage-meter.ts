import type { UsageReply } from '@herald/contracts';
import { byId } from './dom';

/** How long after a run's end the meter reads again: the run's usage is counted within a second. */
const AFTER_RUN_MS = 1200;

/**
 * The header's "today" meter (`GET /v1/usage` for today, UTC): tokens and cost, against the
 * daily quota when there is one; and, once the quota is spent, a clear note above the message
 * box saying when new messages are accepted again.
 */
export class UsageMeter {
  private readonly meter = byId('usage');
  private readonly note = byId('quota-note');
  private timer?: ReturnType<typeof setTimeout>;

  constructor(private readonly read: (day: string) => Promise<UsageReply>) {}

  /** Reads today's usage now; failures leave the meter as it was (it is informative only). */
  async refresh(): Promise<void> {
    const today = new Date().toISOString().slice(0, 10);
    try {
      this.show(await this.read(today));
    } catch {
      // The next run's end reads again.
    }
  }

  /** A run ended: read again once its usage has been counted. */
  runEnded(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), AFTER_RUN_MS);
  }

  /** The gateway refused a message with QUOTA_EXCEEDED: say so until the quota resets. */
  spent(retryAfterMs: number | undefined): void {
    this.meter.classList.add('spent');
    this.showNote(retryAfterMs ?? msUntilUtcMidnight());
    void this.refresh();
  }

  private show({ total, quota }: UsageReply): void {
    const tokens = total.promptTokens + total.completionTokens;
    const parts = [`Today: ${formatTokens(tokens)}${quota?.dailyTokens ? ` / ${formatTokens(quota.dailyTokens)}` : ''} tokens`];
    if (total.costUsd > 0 || quota?.dailyCostUsd) {
      parts.push(`${formatUsd(total.costUsd)}${quota?.dailyCostUsd ? ` / ${formatUsd(quota.dailyCostUsd)}` : ''}`);
    }
    this.meter.textContent = parts.join(' · ');
    this.meter.title = `${total.runs} run${total.runs === 1 ? '' : 's'} today (UTC)${quota ? `; the quota resets at ${new Date(quota.resetsAt).toUTCString()}` : ''}`;
    this.meter.hidden = false;
    const reached =
      quota !== null &&
      ((quota.dailyTokens !== null && tokens >= quota.dailyTokens) || (quota.dailyCostUsd !== null && total.costUsd >= quota.dailyCostUsd));
    this.meter.classList.toggle('spent', reached);
    if (reached && quota) this.showNote(Date.parse(quota.resetsAt) - Date.now());
    else this.note.hidden = true;
  }

  private showNote(retryAfterMs: number): void {
    const at = new Date(Date.now() + Math.max(0, retryAfterMs));
    const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    this.note.textContent = `You have used today’s quota. New messages are accepted again at ${time} (midnight UTC, in ${formatWait(retryAfterMs)}). Runs already started still finish.`;
    this.note.hidden = false;
  }
}

function msUntilUtcMidnight(): number {
  const now = Date.now();
  return 86_400_000 - (now % 86_400_000);
}

function formatTokens(n: number): string {
  return n.toLocaleString('en-US');
}

function formatUsd(n: number): string {
  return `$${n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
}

function formatWait(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}
