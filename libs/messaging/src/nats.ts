import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import {
  connect,
  credsAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
  type JetStreamManager,
  NatsError,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  nanos,
} from 'nats';
import { type Config, ConfigError, type Subjects } from '@herald/contracts';
import type { Logger } from './logger';

/** How a service authenticates to NATS: NATS_USER with NATS_PASSWORD, NATS_TOKEN, or NATS_CREDS (a .creds file). */
export interface NatsCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** The path of a .creds file (a user JWT and its NKey seed). */
  creds?: string;
}

export interface NatsOptions {
  url: string;
  name: string;
  logger?: Logger;
  /** None: an anonymous connection (a development NATS without authorization). */
  credentials?: NatsCredentials;
  /**
   * Called when the connection closes on its own (not by close() or drain()): nats.js gives up
   * reconnecting when the server refuses the credentials twice in a row. It is logged (fatal)
   * before; a service exits here, as nothing it does works without NATS.
   */
  onFatal?: (err: Error) => void;
}

/** The NATS credentials of a configuration (loadConfig has checked that at most one kind is set). */
export function natsCredentials(config: Pick<Config, 'NATS_USER' | 'NATS_PASSWORD' | 'NATS_TOKEN' | 'NATS_CREDS'>): NatsCredentials {
  return { user: config.NATS_USER, password: config.NATS_PASSWORD, token: config.NATS_TOKEN, creds: config.NATS_CREDS };
}

/**
 * The prefix of a connection's reply inboxes (request/reply, JetStream acks and pulls): with a
 * user, `_INBOX_<user>`, so that deploy/nats/nats-server.conf lets each service subscribe to its
 * own replies only (`_INBOX_<user>.>`) rather than to everyone's (`_INBOX.>`).
 */
export function natsInboxPrefix(user: string | undefined): string | undefined {
  return user ? `_INBOX_${user.replace(/[^\w-]/g, '_')}` : undefined;
}

/** The inbox prefix a connection was opened with (nats.js keeps its options on the connection). */
export function inboxPrefixOf(nc: NatsConnection): string | undefined {
  return (nc as unknown as { options?: ConnectionOptions }).options?.inboxPrefix;
}

/** NATS refused the connection's credentials: a configuration error, named by its variables. */
export class NatsAuthError extends ConfigError {}

/** The variables that hold the credentials in use, for messages. */
function credentialVariables(c: NatsCredentials): string {
  if (c.creds) return `NATS_CREDS (${c.creds})`;
  if (c.token) return 'NATS_TOKEN';
  if (c.user) return `NATS_USER/NATS_PASSWORD (user "${c.user}")`;
  return 'no credentials (set NATS_USER and NATS_PASSWORD, NATS_TOKEN or NATS_CREDS)';
}

function authOptions(c: NatsCredentials): Partial<ConnectionOptions> {
  if (c.creds) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(c.creds);
    } catch (err) {
      throw new NatsAuthError(`NATS_CREDS: cannot read ${c.creds}: ${(err as Error).message}`);
    }
    return { authenticator: credsAuthenticator(creds) };
  }
  if (c.token) return { token: c.token };
  if (c.user) return { user: c.user, pass: c.password, inboxPrefix: natsInboxPrefix(c.user) };
  return {};
}

function isAuthError(err: unknown): err is NatsError {
  return err instanceof NatsError && err.isAuthError();
}

/**
 * Connects to NATS and keeps reconnecting forever: a NATS restart must not end a service.
 * Credentials the server refuses are not retried: the first connection fails with a
 * NatsAuthError naming the variables to fix (logged fatal), and a connection that the server
 * later refuses (rotated passwords) is closed by nats.js after the second refusal, logged
 * fatal and reported to `onFatal`.
 */
export async function connectNats({ url, name, logger, credentials = {}, onFatal }: NatsOptions): Promise<NatsConnection> {
  const servers = url.split(',').map((s) => s.trim());
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
      pingInterval: 10_000,
      ...authOptions(credentials),
    });
  } catch (err) {
    if (!isAuthError(err)) throw err;
    const refused = new NatsAuthError(`NATS at ${url} refused ${credentialVariables(credentials)}: ${err.message}`);
    logger?.fatal({ nats: err.code }, refused.message);
    throw refused;
  }
  if (logger) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.permissionContext) {
          // A subject this service's NATS user may not use (deploy/nats/nats-server.conf).
          const { operation, subject } = s.permissionContext;
          logger.error({ nats: s.type, data: String(s.data), operation, subject }, `nats refused a ${operation} to ${subject}`);
        } else if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
          logger.warn({ nats: s.type, data: String(s.data) }, `nats ${s.type}`);
        }
      }
    })();
  }
  void nc.closed().then((err) => {
    if (!err) return; // closed or drained on purpose
    const fatal = isAuthError(err) ? new NatsAuthError(`NATS at ${url} refused ${credentialVariables(credentials)}: ${err.message}`) : err;
    logger?.fatal({ nats: (err as Partial<NatsError>).code }, `nats connection closed: ${fatal.message}`);
    onFatal?.(fatal);
  });
  return nc;
}

/**
 * JetStream answers a publish with 503 (no responders) while a stream has no leader, and a
 * publish sent to a node that just died times out: for a moment after a NATS restart, or
 * while a cluster elects a new leader after losing a node. A publish carries a Nats-Msg-Id,
 * so trying again for that long stores it once.
 */
export const PUBLISH_RETRY = { attempts: 40, delayMs: 250, attemptTimeoutMs: 2000 } as const;

export interface StreamOptions {
  eventRetentionHours: number;
  replicas?: number;
}

/**
 * Creates or updates Herald's streams. Idempotent: every service calls it at start.
 *  - EVENTS keeps lifecycle events for EVENT_RETENTION_HOURS; its stream sequence is the
 *    event id. It republishes every stored event on `<ns>.live.…` with the Nats-Sequence
 *    header, which is what gateways subscribe to per connected user.
 *  - RUNS holds accepted run requests until an orchestrator acknowledges them (work queue).
 * Neither captures request/reply subjects.
 */
export async function ensureStreams(jsm: JetStreamManager, s: Subjects, opts: StreamOptions): Promise<void> {
  const replicas = opts.replicas ?? 1;
  await retryTransient(() => upsertStreams(jsm, s, opts.eventRetentionHours, replicas));
}

/** JetStream API errors that only mean "not now": no stream leader yet, or a slow cluster. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '503' || code === 'TIMEOUT';
}

/** Retries an idempotent JetStream operation while its errors are transient (a cluster electing leaders). */
export async function retryTransient<T>(op: () => Promise<T>, { attempts = 30, delayMs = 500 } = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw err;
      await delay(delayMs);
    }
  }
}

async function upsertStreams(jsm: JetStreamManager, s: Subjects, eventRetentionHours: number, replicas: number): Promise<void> {
  await upsertStream(jsm, {
    name: s.streams.events,
    subjects: [s.eventsAll],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(eventRetentionHours * 3600 * 1000),
    duplicate_window: nanos(120_000),
    num_replicas: replicas,
    republish: { src: s.eventsAll, dest: s.liveAll },
  });
  await upsertStream(jsm, {
    name: s.streams.runs,
    // Gateways publish per conversation; the bare subject is still taken for requests that
    // gateways from before that change published during a rolling upgrade.
    subjects: [s.runRequest, s.runRequestOf('*')],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(24 * 3600 * 1000),
    duplicate_window: nanos(120_000),
    num_replicas: replicas,
  });
}

type StreamConfigInput = Parameters<JetStreamManager['streams']['add']>[0] & { name: string };

async function upsertStream(jsm: JetStreamManager, cfg: StreamConfigInput): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
  } catch {
    try {
      await jsm.streams.add(cfg);
      return;
    } catch (err) {
      // Another instance created it first.
      await jsm.streams.info(cfg.name).catch(() => {
        throw err;
      });
    }
  }
  const { retention: _r, storage: _s, ...mutable } = cfg;
  await jsm.streams.update(cfg.name, mutable);
}
