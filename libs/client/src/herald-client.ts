import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  AgentEvent,
  ChatSendResult,
  ClientToServerEvents,
  ErrorBody,
  EventsResumeResult,
  OnBusy,
  RunCancelResult,
  ServerToClientEvents,
  SessionReady,
  TraceLevel,
} from '@herald/contracts';

export type TokenProvider = string | (() => string | Promise<string>);

export interface HeraldClientOptions {
  /** Gateway base URL, e.g. http://localhost:3000 */
  url: string;
  /** A JWT, or a function returning a fresh one (called on every (re)connect). */
  token: TokenProvider;
  transports?: ('websocket' | 'polling')[];
  /** Re-deliver missed events after every reconnect (default true). */
  autoResume?: boolean;
  /** How long requests wait for an ack (default 10 s). */
  ackTimeoutMs?: number;
  /** Put the token in the query string instead of `auth` (for clients that cannot set auth). */
  tokenInQuery?: boolean;
}

export interface SendOptions {
  conversationId?: string;
  clientMessageId?: string;
  traceLevel?: TraceLevel;
  stream?: boolean;
  onBusy?: OnBusy;
}

/** An ack with `ok: false`, thrown by the client's request methods. */
export class HeraldRequestError extends Error {
  constructor(readonly error: ErrorBody) {
    super(`${error.code}: ${error.message}`);
    this.name = 'HeraldRequestError';
  }
  get code() {
    return this.error.code;
  }
}

type Listener = (event: AgentEvent) => void;

/**
 * A typed client for Herald's socket protocol: connects with a token, delivers each
 * `agent:event` once and in order (duplicates around a resume are dropped by id), and
 * resumes from the last seen id after every reconnect.
 */
export class HeraldClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private lastId = 0n;
  /** While a resume is under way, events are held here, then delivered in id order. */
  private held?: AgentEvent[];
  private readonly listeners = new Set<Listener>();
  private session?: SessionReady;
  private readyWaiters: Array<(s: SessionReady) => void> = [];
  private readonly ackTimeoutMs: number;

  constructor(private readonly options: HeraldClientOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    const tokenOf = async () => (typeof options.token === 'function' ? options.token() : options.token);
    this.socket = io(options.url, {
      transports: options.transports ?? ['websocket'],
      autoConnect: false,
      reconnectionDelay: 250,
      reconnectionDelayMax: 5000,
      ...(options.tokenInQuery ? {} : { auth: (cb: (data: object) => void) => void tokenOf().then((token) => cb({ token })) }),
    });
    this.socket.on('agent:event', (event) => (this.held ? this.held.push(event) : this.deliver(event)));
    this.socket.on('session:ready', (info) => {
      const resumed = this.session !== undefined;
      this.session = info;
      if (resumed && options.autoResume !== false && this.lastId > 0n) {
        void this.resume(this.lastId.toString()).catch(() => undefined);
      }
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      waiters.forEach((w) => w(info));
    });
    this.socket.on('session:expired', () => {
      // With a token provider, reconnect with a fresh token; a fixed token cannot be renewed.
      if (typeof options.token === 'function') setTimeout(() => this.socket.connect(), 0);
    });
  }

  /** Connects and resolves once the server has joined this socket to the user's delivery. */
  async connect(): Promise<SessionReady> {
    if (this.options.tokenInQuery) {
      const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
      (this.socket.io.opts as { query?: Record<string, string> }).query = { token };
    }
    const ready = new Promise<SessionReady>((resolve, reject) => {
      this.readyWaiters.push(resolve);
      this.socket.once('connect_error', (err) => reject(err));
    });
    this.socket.connect();
    return ready;
  }

  get sessionInfo(): SessionReady | undefined {
    return this.session;
  }

  /** The id of the last event delivered (the resume cursor). */
  get cursor(): string {
    return this.lastId.toString();
  }

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(content: string, opts: SendOptions = {}): Promise<ChatSendResult> {
    return this.request<ChatSendResult>('chat:send', {
      conversationId: opts.conversationId ?? 'new',
      content,
      ...(opts.clientMessageId ? { clientMessageId: opts.clientMessageId } : {}),
      options: { traceLevel: opts.traceLevel ?? 'none', stream: opts.stream ?? false, onBusy: opts.onBusy ?? 'enqueue' },
    });
  }

  cancel(runId: string): Promise<RunCancelResult> {
    return this.request<RunCancelResult>('run:cancel', { runId });
  }

  respond(runId: string, requestId: string, response: string | { approved: boolean; comment?: string }): Promise<object> {
    return this.request('run:respond', { runId, requestId, response });
  }

  /**
   * Re-delivers what was missed after `after`. Live events that reach this socket before the
   * server starts the replay may be newer than replayed ones: everything is held until the
   * ack, then delivered in id order without duplicates, so no gap opens.
   */
  async resume(after: string = this.cursor, conversationId?: string): Promise<EventsResumeResult> {
    const outer = this.held === undefined;
    if (outer) this.held = [];
    try {
      return await this.request<EventsResumeResult>('events:resume', conversationId ? { after, conversationId } : { after });
    } finally {
      if (outer) {
        const held = this.held ?? [];
        this.held = undefined;
        held.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
        for (const event of held) this.deliver(event);
      }
    }
  }

  /**
   * Sends a message and follows its run: an async iterator of the run's events (ending with
   * its terminal event) and a promise of the final answer.
   */
  async ask(content: string, opts: SendOptions = {}): Promise<RunHandle> {
    const buffered: AgentEvent[] = [];
    let runId: string | undefined;
    const handle = new RunHandle();
    const off = this.onEvent((event) => {
      if (runId === undefined) buffered.push(event);
      else if (event.runId === runId) handle.push(event);
    });
    try {
      const ack = await this.send(content, opts);
      runId = ack.runId;
      handle.ack = ack;
      for (const event of buffered) if (event.runId === runId) handle.push(event);
      handle.onEnd(off);
      return handle;
    } catch (err) {
      off();
      throw err;
    }
  }

  close(): void {
    this.socket.disconnect();
  }

  private deliver(event: AgentEvent) {
    const id = BigInt(event.id);
    if (id <= this.lastId) return; // a duplicate around a resume
    this.lastId = id;
    for (const listener of this.listeners) listener(event);
  }

  private request<T extends object>(event: keyof ClientToServerEvents, payload: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // The typed map declares acks without the timeout's error argument; emit untyped here.
      (this.socket as unknown as Socket).timeout(this.ackTimeoutMs).emit(event, payload, (err: Error | null, res: Ack<T>) => {
        if (err) return reject(err);
        if (res.ok) resolve(res as T);
        else reject(new HeraldRequestError(res.error));
      });
    });
  }
}

const TERMINAL = new Set(['orchestration_completed', 'run_cancelled', 'error']);

/** The events of one run, as an async iterator, plus its answer. */
export class RunHandle implements AsyncIterable<AgentEvent> {
  ack!: ChatSendResult;
  readonly events: AgentEvent[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  private endCallbacks: Array<() => void> = [];
  private resolveAnswer!: (content: string) => void;
  private rejectAnswer!: (err: Error) => void;
  /** The assistant's answer; rejects if the run ends without one. */
  readonly answer = new Promise<string>((resolve, reject) => {
    this.resolveAnswer = resolve;
    this.rejectAnswer = reject;
  });

  constructor() {
    this.answer.catch(() => undefined);
  }

  get runId() {
    return this.ack.runId;
  }

  /** Resolves with every event of the run once its terminal event has arrived. */
  async done(): Promise<AgentEvent[]> {
    for await (const _ of this) {
      /* drain */
    }
    return this.events;
  }

  push(event: AgentEvent) {
    if (this.ended) return;
    this.events.push(event);
    if (event.type === 'message') this.resolveAnswer(event.data.content);
    if (TERMINAL.has(event.type)) {
      this.ended = true;
      if (event.type !== 'orchestration_completed') this.rejectAnswer(new Error(`run ended with ${event.type}`));
      this.endCallbacks.forEach((cb) => cb());
    }
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  onEnd(cb: () => void) {
    if (this.ended) cb();
    else this.endCallbacks.push(cb);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    let i = 0;
    for (;;) {
      while (i < this.events.length) yield this.events[i++];
      if (this.ended) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}
