import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  AgentEvent,
  ChatSendResult,
  ClientToServerEvents,
  EventsResumeResult,
  FeedbackRating,
  RunCancelResult,
  ServerToClientEvents,
  SessionReady,
  SetFeedbackReply,
} from '@herald/contracts';
import { Backoff } from './backoff';
import { EventCursor } from './event-cursor';
import type {
  CaughtUpListener,
  ConnectionStatus,
  EventListener,
  HeraldClientOptions,
  RunResponse,
  SendOptions,
  StatusListener,
} from './herald-client.types';
import { HeraldRequestError } from './herald-request-error';
import { RunHandle } from './run-handle';

/** What `connect_error` carries when the server refuses a handshake (PROTOCOL.md §1). */
interface HandshakeError extends Error {
  data?: { code?: string; message?: string };
}

/**
 * A typed client for Herald's socket protocol. It connects with a token or a token
 * provider, delivers each `agent:event` once and in id order, reconnects with backoff
 * (asking the provider for a fresh token, also after `session:expired`), and after every
 * reconnect resumes from the last id it delivered, so nothing is missed or repeated.
 */
export class HeraldClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly cursor: EventCursor;
  private readonly backoff: Backoff;
  private readonly eventListeners = new Set<EventListener>();
  private readonly statusListeners = new Set<StatusListener>();
  private readonly caughtUpListeners = new Set<CaughtUpListener>();
  private readonly ackTimeoutMs: number;
  private session?: SessionReady;
  private current: ConnectionStatus = { state: 'closed' };
  private closed = true;
  private expired = false;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private firstConnect?: { resolve: (s: SessionReady) => void; reject: (err: Error) => void };

  constructor(private readonly options: HeraldClientOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.cursor = new EventCursor(options.lastEventId);
    this.backoff = new Backoff(options.reconnect);
    this.socket = io(options.url, {
      transports: options.transports ?? ['websocket'],
      autoConnect: false,
      reconnectionDelay: options.reconnect?.initialDelayMs ?? 250,
      reconnectionDelayMax: options.reconnect?.maxDelayMs ?? 10_000,
      randomizationFactor: options.reconnect?.jitter ?? 0.5,
      ...(options.tokenInQuery
        ? {}
        : {
            auth: (cb: (data: object) => void) =>
              void this.token().then(
                (token) => cb({ token }),
                () => cb({}),
              ),
          }),
    });
    this.socket.on('agent:event', (event) => {
      if (this.cursor.offer(event)) this.deliver(event);
    });
    this.socket.on('session:ready', (info) => this.onReady(info));
    this.socket.on('session:expired', () => {
      this.expired = true;
    });
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('connect_error', (err) => this.onConnectError(err as HandshakeError));
  }

  /** Connects and resolves once the server has joined this socket to the user's delivery; rejects on the first refusal or error. */
  async connect(): Promise<SessionReady> {
    this.closed = false;
    const ready = new Promise<SessionReady>((resolve, reject) => (this.firstConnect = { resolve, reject }));
    this.setStatus({ state: 'connecting' });
    await this.open();
    return ready;
  }

  /** Closes the connection for good (no reconnect). */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
    this.setStatus({ state: 'closed', reason: 'closed' });
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  get sessionInfo(): SessionReady | undefined {
    return this.session;
  }

  /** The id of the last event delivered: where the next resume starts. */
  get lastEventId(): string {
    return this.cursor.lastId;
  }

  /** Every `agent:event` of the user, once each, in id order. Returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Connection state changes (`online`, `offline`, `resuming`, …). Returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Told after each automatic resume, once everything missed while offline was delivered. */
  onCaughtUp(listener: CaughtUpListener): () => void {
    this.caughtUpListeners.add(listener);
    return () => this.caughtUpListeners.delete(listener);
  }

  /** `chat:send`. Rejects with a HeraldRequestError (`RATE_LIMITED`, `NOT_FOUND`, …) when refused. */
  send(content: string, opts: SendOptions = {}): Promise<ChatSendResult> {
    return this.request<ChatSendResult>('chat:send', {
      conversationId: opts.conversationId ?? 'new',
      ...(opts.regenerate ? { regenerate: true } : { content }),
      ...(opts.parentMessageId ? { parentMessageId: opts.parentMessageId } : {}),
      ...(opts.clientMessageId ? { clientMessageId: opts.clientMessageId } : {}),
      options: { traceLevel: opts.traceLevel ?? 'none', stream: opts.stream ?? false, onBusy: opts.onBusy ?? 'enqueue' },
    });
  }

  cancel(runId: string): Promise<RunCancelResult> {
    return this.request<RunCancelResult>('run:cancel', { runId });
  }

  respond(runId: string, requestId: string, response: RunResponse): Promise<object> {
    return this.request('run:respond', { runId, requestId, response });
  }

  /**
   * `message:feedback`: rates one of the user's assistant messages (`null` removes the rating);
   * resolves with the rating now stored. NOT_FOUND for any other message.
   */
  rate(messageId: string, rating: FeedbackRating | null, comment?: string): Promise<SetFeedbackReply> {
    return this.request<SetFeedbackReply>('message:feedback', { messageId, rating, ...(comment !== undefined ? { comment } : {}) });
  }

  /**
   * `events:resume`: re-delivers what came after `after` (default: the last delivered id).
   * Live events that reach the socket meanwhile may be newer than replayed ones: they are
   * held until the ack, then delivered in id order without duplicates. The server replays at
   * most REPLAY_MAX_EVENTS per call and acks `more: true` when it stopped there: this calls
   * again from the ack's `lastId` until `more` is false, delivering each call's events as
   * its ack comes. The result adds up every call (`more` is then false).
   */
  async resume(after: string = this.cursor.lastId, conversationId?: string): Promise<EventsResumeResult & { delivered: number }> {
    let delivered = 0;
    let replayed = 0;
    let from = after;
    const count = this.onEvent(() => delivered++);
    try {
      for (;;) {
        const outer = this.cursor.hold();
        try {
          const result = await this.request<EventsResumeResult>(
            'events:resume',
            conversationId ? { after: from, conversationId } : { after: from },
          );
          if (outer) this.releaseHeld();
          replayed += result.replayed;
          // A server without `more` (or one that made no progress) is done.
          if (result.more !== true || result.lastId === from) return { replayed, lastId: result.lastId, more: false, delivered };
          from = result.lastId;
        } finally {
          if (outer) this.releaseHeld(); // after a failed request: deliver what was held anyway
        }
      }
    } finally {
      count();
    }
  }

  /**
   * Sends a message and follows its run: the handle is an async iterator of the run's
   * events (ending with its terminal event) with a promise of the answer.
   */
  async ask(content: string, opts: SendOptions = {}): Promise<RunHandle> {
    // A run's first events can arrive before the ack names its id: keep them until then.
    const early: AgentEvent[] = [];
    let handle: RunHandle | undefined;
    const off = this.onEvent((event) => (handle ? handle.push(event) : early.push(event)));
    try {
      handle = new RunHandle(await this.send(content, opts));
      for (const event of early) handle.push(event);
      handle.onEnd(off);
      return handle;
    } catch (err) {
      off();
      throw err;
    }
  }

  private async open(): Promise<void> {
    if (this.options.tokenInQuery) {
      (this.socket.io.opts as { query?: Record<string, string> }).query = { token: await this.token() };
    }
    if (!this.closed) this.socket.connect();
  }

  private token(): Promise<string> {
    const { token } = this.options;
    return Promise.resolve(typeof token === 'function' ? token() : token);
  }

  private get renewable(): boolean {
    return typeof this.options.token === 'function';
  }

  private onReady(info: SessionReady): void {
    this.session = info;
    this.expired = false;
    this.backoff.reset();
    const first = this.firstConnect;
    this.firstConnect = undefined;
    first?.resolve(info);
    // A reconnect resumes from the last delivered id; a first connection only when the
    // client was given a `lastEventId` to start from (the cursor is past '0' only then).
    if (this.options.autoResume === false || this.cursor.lastId === '0') {
      this.setStatus({ state: 'online', session: info });
      return;
    }
    this.setStatus({ state: 'resuming', session: info });
    this.resume().then(
      (result) => {
        if (this.socket.connected) this.setStatus({ state: 'online', session: info });
        this.caughtUpListeners.forEach((l) => l(result));
      },
      // The socket dropped during the resume: the next session:ready resumes again.
      () => undefined,
    );
  }

  private onDisconnect(reason: string): void {
    if (this.closed) return;
    if (reason === 'io client disconnect') return;
    if (reason !== 'io server disconnect') {
      // Transport closed or ping timeout: socket.io reconnects by itself, with backoff.
      this.setStatus({ state: 'offline', reason });
      return;
    }
    // The server closed this session (its token expired): only a token provider can renew it.
    if (this.expired && !this.renewable) this.stop('session_expired');
    else this.scheduleReconnect(this.expired ? 'session_expired' : reason);
  }

  private onConnectError(err: HandshakeError): void {
    if (this.closed) return;
    const first = this.firstConnect;
    if (first) {
      this.firstConnect = undefined;
      first.reject(err);
      this.stop(err.message);
      return;
    }
    // socket.io retries transport errors itself; a refusal by the server (`active` false) is ours to retry.
    if (this.socket.active) this.setStatus({ state: 'offline', reason: err.message });
    else if (err.message === 'unauthorized' && !this.renewable) this.stop('unauthorized');
    else this.scheduleReconnect(err.message);
  }

  private scheduleReconnect(reason: string): void {
    clearTimeout(this.retryTimer);
    const retryInMs = this.backoff.next();
    this.setStatus({ state: 'offline', reason, retryInMs });
    this.retryTimer = setTimeout(() => void this.open().catch(() => this.scheduleReconnect('token_unavailable')), retryInMs);
  }

  private stop(reason: string): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
    this.setStatus({ state: 'closed', reason });
  }

  private setStatus(status: ConnectionStatus): void {
    this.current = status;
    this.statusListeners.forEach((l) => l(status));
  }

  private releaseHeld(): void {
    if (this.cursor.holding) for (const event of this.cursor.release()) this.deliver(event);
  }

  private deliver(event: AgentEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  private request<T extends object>(event: keyof ClientToServerEvents, payload: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // The typed map declares acks without the timeout's error argument: emit untyped here.
      (this.socket as unknown as Socket).timeout(this.ackTimeoutMs).emit(event, payload, (err: Error | null, res: Ack<T>) => {
        if (err) return reject(new HeraldRequestError({ code: 'UNAVAILABLE', message: 'No answer from the server in time.' }));
        if (res.ok) resolve(res as T);
        else reject(new HeraldRequestError(res.error));
      });
    });
  }
}
