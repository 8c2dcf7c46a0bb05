import type { AgentEvent, EventsResumeResult, OnBusy, SessionReady, TraceLevel } from '@herald/contracts';

/** A JWT, or a function returning a fresh one (called before every connection attempt). */
export type TokenProvider = string | (() => string | Promise<string>);

export interface ReconnectOptions {
  /** First delay before reconnecting (default 250 ms). */
  initialDelayMs?: number;
  /** Upper bound of the delay (default 10 s). */
  maxDelayMs?: number;
  /** 0..1: how much of each delay is random, so clients do not reconnect in lockstep (default 0.5). */
  jitter?: number;
}

export interface HeraldClientOptions {
  /** Gateway base URL, e.g. http://localhost:3000. In a browser, `location.origin`. */
  url: string;
  token: TokenProvider;
  /** Default `['websocket']` (needs no sticky sessions); add `'polling'` for networks that block WebSocket. */
  transports?: ('websocket' | 'polling')[];
  /** Re-deliver missed events after every reconnect (default true). */
  autoResume?: boolean;
  /**
   * The id of the last event this user's client already has, from an earlier session (a
   * page reload, another tab, another process): the first connection resumes after it,
   * holding live events meanwhile, so nothing between then and now is missed or repeated.
   */
  lastEventId?: string;
  /** How long requests wait for an ack (default 10 s). */
  ackTimeoutMs?: number;
  /** Put the token in the query string instead of `auth` (for clients that cannot set auth). */
  tokenInQuery?: boolean;
  reconnect?: ReconnectOptions;
}

export interface SendOptions {
  /** `"new"` (default) or the id of one of the user's conversations. */
  conversationId?: string;
  /** Idempotency key: sending it again acks the first run and starts nothing. */
  clientMessageId?: string;
  traceLevel?: TraceLevel;
  stream?: boolean;
  onBusy?: OnBusy;
  /**
   * The user message edited (the content becomes its sibling) or, with `regenerate`, the user
   * message answered again (PROTOCOL.md §2, §10).
   */
  parentMessageId?: string;
  /** Answer `parentMessageId` (or the active branch's last question) again; the content is not sent. */
  regenerate?: boolean;
}

/** `run:respond`: a clarification's answer, or an approval's decision. */
export type RunResponse = string | { approved: boolean; comment?: string };

/**
 * - `connecting`: the first connection is being opened
 * - `online`: joined to the user's delivery (after `session:ready`)
 * - `resuming`: online again after a disconnect, replaying what was missed
 * - `offline`: disconnected; reconnecting with backoff
 * - `closed`: `close()` was called, or the server refused the token and no provider can renew it
 */
export type ConnectionState = 'connecting' | 'online' | 'resuming' | 'offline' | 'closed';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Why the client is offline or closed: `unauthorized`, `unavailable`, `session_expired`, a transport reason… */
  reason?: string;
  /** The delay before the next attempt, when one is scheduled by the client. */
  retryInMs?: number;
  session?: SessionReady;
}

/** Told once a resume after a reconnect has delivered everything that was missed. */
export interface CaughtUp extends EventsResumeResult {
  /** The events delivered by the resume (replayed, plus live ones held during it). */
  delivered: number;
}

export type EventListener = (event: AgentEvent) => void;
export type StatusListener = (status: ConnectionStatus) => void;
export type CaughtUpListener = (info: CaughtUp) => void;
