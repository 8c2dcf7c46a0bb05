import { connect, type NatsConnection, type JetStreamManager, RetentionPolicy, StorageType, DiscardPolicy, nanos } from 'nats';
import type { Subjects } from '@herald/contracts';
import type { Logger } from './logger';

export interface NatsOptions {
  url: string;
  name: string;
  logger?: Logger;
}

/** Connects to NATS and keeps reconnecting forever: a NATS restart must not end a service. */
export async function connectNats({ url, name, logger }: NatsOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    pingInterval: 10_000,
  });
  if (logger) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
          logger.warn({ nats: s.type, data: String(s.data) }, `nats ${s.type}`);
        }
      }
    })();
  }
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
      await new Promise((resolve) => setTimeout(resolve, delayMs));
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
