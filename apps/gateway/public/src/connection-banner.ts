import type { CaughtUp, ConnectionStatus } from '@herald/client';
import { byId } from './dom';

const REASONS: Record<string, string> = {
  unauthorized: 'The server did not accept your sign-in.',
  session_expired: 'Your session expired.',
  unavailable: 'The server is restarting.',
};

/** The header's connection pill and the banner shown while disconnected or just caught up. */
export class ConnectionBanner {
  private readonly pill = byId('connection');
  private readonly banner = byId('banner');
  private hideTimer?: ReturnType<typeof setTimeout>;

  status(status: ConnectionStatus): void {
    document.body.dataset.connection = status.state;
    const labels = { connecting: 'Connecting…', online: 'Live', resuming: 'Catching up…', offline: 'Offline', closed: 'Disconnected' };
    this.pill.textContent = labels[status.state];
    this.pill.className = `pill ${status.state}`;
    if (status.state === 'offline' || status.state === 'closed') {
      const why = status.reason ? (REASONS[status.reason] ?? 'The connection was lost.') : 'The connection was lost.';
      const next =
        status.state === 'closed'
          ? ' Sign in again to continue.'
          : status.retryInMs
            ? ` Reconnecting in ${Math.ceil(status.retryInMs / 1000)} s…`
            : ' Reconnecting…';
      this.show('offline', `${why}${next} Nothing will be missed: events are replayed when we are back.`);
    } else if (status.state === 'resuming') {
      this.show('resuming', 'Back online, catching up on what happened meanwhile…');
    } else if (this.banner.dataset.kind !== 'caught-up') {
      this.hide();
    }
  }

  caughtUp(info: CaughtUp): void {
    const missed =
      info.delivered === 0 ? 'nothing was missed' : `${info.delivered} missed event${info.delivered === 1 ? '' : 's'} delivered`;
    this.show('caught-up', `Back online and caught up: ${missed}.`);
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => this.hide(), 6000);
  }

  private show(kind: string, text: string) {
    clearTimeout(this.hideTimer);
    this.banner.dataset.kind = kind;
    this.banner.textContent = text;
    this.banner.hidden = false;
  }

  private hide() {
    this.banner.hidden = true;
    delete this.banner.dataset.kind;
  }
}
