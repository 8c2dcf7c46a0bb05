import type { AgentEvent } from '@herald/contracts';
import type { Response } from 'express';

/** A client this far behind is dropped; it reconnects with Last-Event-ID. */
export const SSE_MAX_BUFFERED_BYTES = 1024 * 1024;
export const SSE_RETRY_MS = 3000;

/**
 * One Server-Sent Events response: `id` = event id, `event` = type, `data` = the envelope,
 * and a comment every `heartbeatMs` (SSE_HEARTBEAT_MS) so that proxies keep it open.
 */
export class SseStream {
  private heartbeat: NodeJS.Timeout | undefined;
  private opened = false;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly res: Response,
    private readonly heartbeatMs: number,
  ) {
    res.on('close', () => this.close());
  }

  /** Sends the headers and an opening comment (once; sending an event opens the stream too). */
  open(): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    this.res.status(200);
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-cache, no-transform');
    this.res.setHeader('Connection', 'keep-alive');
    this.res.setHeader('X-Accel-Buffering', 'no');
    this.res.flushHeaders();
    this.write(`retry: ${SSE_RETRY_MS}\n: connected\n\n`);
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), this.heartbeatMs);
    this.heartbeat.unref();
  }

  send(event: AgentEvent): void {
    this.open();
    this.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    if (this.res.writableLength > SSE_MAX_BUFFERED_BYTES) this.close();
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the headers (status 200) went out: until then the request can still be answered with an error. */
  get isOpened(): boolean {
    return this.opened;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
    for (const listener of this.closeListeners) listener();
  }

  private write(chunk: string): void {
    if (!this.closed && !this.res.writableEnded) this.res.write(chunk);
  }
}
