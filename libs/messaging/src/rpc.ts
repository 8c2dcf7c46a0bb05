import { ErrorCode, HeraldError, type PersistenceRpc, type RpcReply, type Subjects, toErrorBody } from '@herald/contracts';
import type { NatsConnection, Subscription } from 'nats';
import type { z } from 'zod';
import { decodeJson, encodeJson } from './codec';
import { buildHeaders, HEADER, readHeader } from './headers';
import type { Logger } from './logger';
import { SpanKind, startSpan } from './tracing';

export interface CallOptions {
  timeoutMs?: number;
  /** The caller's span (W3C traceparent): the server's span for the call becomes its child. */
  traceparent?: string;
}

/** Request/reply to the persistence service; a timeout or no responder is UNAVAILABLE. */
export class PersistenceClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly timeoutMs = 5000,
  ) {}

  async call<T>(op: PersistenceRpc, payload: unknown, { timeoutMs = this.timeoutMs, traceparent }: CallOptions = {}): Promise<T> {
    let reply: RpcReply<T>;
    try {
      const headers = traceparent ? buildHeaders({ [HEADER.traceparent]: traceparent }) : undefined;
      const msg = await this.nc.request(this.subjects.rpc(op), encodeJson(payload), { timeout: timeoutMs, headers });
      reply = decodeJson<RpcReply<T>>(msg.data);
    } catch (err) {
      throw new HeraldError(ErrorCode.UNAVAILABLE, 'The storage service is unavailable. Please try again shortly.');
    }
    if (!reply.ok) throw new HeraldError(reply.error.code, reply.error.message, reply.error.retryAfterMs);
    return reply.data;
  }
}

/**
 * Serves one request/reply subject in a queue group, so any number of instances share the
 * load. The handler's input is validated; a thrown HeraldError becomes an error reply, and
 * anything else an INTERNAL one (logged, never sent). A request that carries its caller's
 * traceparent is answered in a span named `spanName`, the child of the caller's span; one
 * without (health checks) makes none.
 */
export function serveRpc<S extends z.ZodType, R>(
  nc: NatsConnection,
  subject: string,
  queue: string,
  schema: S,
  handler: (input: z.infer<S>) => Promise<R>,
  logger: Logger,
  spanName = `rpc ${subject}`,
): Subscription {
  return nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err, subject }, 'rpc subscription error');
        return;
      }
      void (async () => {
        let parent: string | undefined;
        try {
          parent = readHeader(msg.headers, HEADER.traceparent);
        } catch {
          parent = undefined; // a header that is not valid percent-encoding: no span
        }
        const span = parent ? startSpan(spanName, { parent, kind: SpanKind.SERVER }) : undefined;
        let reply: RpcReply<R>;
        try {
          const parsed = schema.safeParse(decodeJson(msg.data));
          if (!parsed.success) throw new HeraldError(ErrorCode.INVALID_INPUT, 'invalid request');
          reply = { ok: true, data: await handler(parsed.data) };
          span?.end();
        } catch (e) {
          if (!HeraldError.is(e)) logger.error({ err: e, subject }, 'rpc handler failed');
          reply = { ok: false, error: toErrorBody(e) };
          span?.end(e);
        }
        if (msg.reply) msg.respond(encodeJson(reply));
      })();
    },
  });
}
