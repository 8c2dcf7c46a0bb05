import {
  createInbox,
  ErrorCode,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  NatsError,
  type Subscription,
} from 'nats';
import { decodeJson } from './codec';
import { payloadBudget } from './payload-limit';
import { inboxPrefixOf } from './nats';

/** JetStream's answer to a publish it stored (or recognised as a duplicate of a stored one). */
export interface StreamAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface StreamPublishOptions {
  /** Nats-Msg-Id: JetStream stores a message once per id within the stream's duplicate window. */
  msgId: string;
  headers?: MsgHdrs;
  /** How long to wait for the ack before rejecting with code `TIMEOUT`. */
  timeoutMs: number;
}

/** What one JetStream publish needs: the stream's ack, or an error whose `code` says why not. */
export interface StreamPublisher {
  publish(subject: string, data: Uint8Array, opts: StreamPublishOptions): Promise<StreamAck>;
  /** The most bytes of data one message may carry (payloadBudget), when the publisher knows it. */
  payloadBudget?(): number;
}

interface Pending {
  resolve: (ack: StreamAck) => void;
  reject: (err: Error) => void;
  deadline: number;
}

interface AckReply {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code: number; err_code?: number; description?: string };
}

const SWEEP_MS = 100;

/**
 * JetStream publishes with acks, pipelined on one connection. It does what nats.js's
 * `js.publish` does, with the same error codes (`503` while a stream has no leader or no
 * stream takes the subject, `TIMEOUT`, and JetStream's API error code otherwise), but its
 * acks all come back on one wildcard inbox subscription, and one timer sweeps expired
 * publishes: `js.publish` pays a request, a timer and an Error (with its stack) per message,
 * which made it cost ~48 µs of CPU per publish against ~8 µs here (bench/RESULTS.md).
 */
export class JetStreamPublisher implements StreamPublisher {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly subscription: Subscription;
  private next = 0;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly nc: NatsConnection) {
    // The connection's own inbox prefix: a NATS user may subscribe to its own inboxes only.
    this.prefix = `${createInbox(inboxPrefixOf(nc))}.`;
    this.subscription = nc.subscribe(`${this.prefix}*`, { callback: (_err, msg) => this.settle(msg) });
    void nc.closed().then(() => this.close());
  }

  publish(subject: string, data: Uint8Array, { msgId, headers, timeoutMs }: StreamPublishOptions): Promise<StreamAck> {
    const h = headers ?? natsHeaders();
    h.set('Nats-Msg-Id', msgId);
    const token = (this.next++).toString(36);
    return new Promise<StreamAck>((resolve, reject) => {
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, headers: h });
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.pending.set(token, { resolve, reject, deadline: Date.now() + timeoutMs });
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    });
  }

  payloadBudget(): number {
    return payloadBudget(this.nc);
  }

  /** Rejects what is still waiting (code `CONNECTION_CLOSED`) and stops listening. */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    if (!this.subscription.isClosed()) this.subscription.unsubscribe();
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      p.reject(new NatsError('connection closed', ErrorCode.ConnectionClosed));
    }
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return; // timed out already
    this.pending.delete(token);
    if (msg.headers?.code === 503) return p.reject(new NatsError('no stream leader or no stream for the subject', '503'));
    let reply: AckReply;
    try {
      reply = decodeJson<AckReply>(msg.data);
    } catch {
      return p.reject(new NatsError('unreadable JetStream ack', ErrorCode.BadJson));
    }
    if (reply.error) {
      const err = new NatsError(reply.error.description ?? `JetStream error ${reply.error.code}`, String(reply.error.code));
      return p.reject(Object.assign(err, { api_error: reply.error }));
    }
    if (typeof reply.seq !== 'number' || !reply.stream) return p.reject(new NatsError('not a JetStream ack', ErrorCode.BadPayload));
    p.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(token);
      p.reject(new NatsError('timed out waiting for the JetStream ack', ErrorCode.Timeout));
    }
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
