import type { Response } from 'express';

/** A client this far behind is dropped; it resumes with its last frame id. */
const SSE_RESPONSE_MAX_BUFFERED_BYTES = 1024 * 1024;

export interface SseResponseOptions {
  /** A comment line this often, so that proxies keep the response open. */
  heartbeatMs: number;
  /** Extra response headers (a protocol's own, e.g. the AI SDK's stream version). */
  headers?: Record<string, string>;
  /** Written once the headers are out (e.g. a `retry:` field and an opening comment). */
  preamble?: string;
}

/**
 * One `text/event-stream` answer whose frames its user formats (Herald's own event stream,
 * the AG-UI encoder, the AI SDK's `data:` parts). Opening sends the headers; a comment goes out every
 * `heartbeatMs`; closing ends the response (the client's connection going away closes it too).
 */
export class SseResponse {
  private heartbeat: NodeJS.Timeout | undefined;
  private opened = false;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly res: Response,
    private readonly opts: SseResponseOptions,
  ) {
    res.on('close', () => this.close());
  }

  open(): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    this.res.status(200);
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-cache, no-transform');
    this.res.setHeader('Connection', 'keep-alive');
    this.res.setHeader('X-Accel-Buffering', 'no');
    for (const [name, value] of Object.entries(this.opts.headers ?? {})) this.res.setHeader(name, value);
    this.res.flushHeaders();
    if (this.opts.preamble) this.write(this.opts.preamble);
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Writes one or more complete SSE frames (each ending with a blank line). */
  send(frames: string): void {
    this.open();
    this.write(frames);
    if (this.res.writableLength > SSE_RESPONSE_MAX_BUFFERED_BYTES) this.close();
  }

  /** Runs `listener` when the response closes (at once if it already has). */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** The underlying response, for an HTTP error before the stream opened. */
  get response(): Response {
    return this.res;
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
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private write(chunk: string): void {
    if (!this.closed && !this.res.writableEnded) this.res.write(chunk);
  }
}
