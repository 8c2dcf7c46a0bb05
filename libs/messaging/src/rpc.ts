import { ErrorCode, HeraldError, type PersistenceRpc, type RpcReply, type Subjects, toErrorBody } from '@herald/contracts';
import type { NatsConnection, Subscription } from 'nats';
import type { z } from 'zod';
import { decodeJson, encodeJson } from './codec';
import type { Logger } from './logger';

/** Request/reply to the persistence service; a timeout or no responder is UNAVAILABLE. */
export class PersistenceClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly timeoutMs = 5000,
  ) {}

  async call<T>(op: PersistenceRpc, payload: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    let reply: RpcReply<T>;
    try {
      const msg = await this.nc.request(this.subjects.rpc(op), encodeJson(payload), { timeout: timeoutMs });
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
 * anything else an INTERNAL one (logged, never sent).
 */
export function serveRpc<S extends z.ZodType, R>(
  nc: NatsConnection,
  subject: string,
  queue: string,
  schema: S,
  handler: (input: z.infer<S>) => Promise<R>,
  logger: Logger,
): Subscription {
  return nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err, subject }, 'rpc subscription error');
        return;
      }
      void (async () => {
        let reply: RpcReply<R>;
        try {
          const parsed = schema.safeParse(decodeJson(msg.data));
          if (!parsed.success) throw new HeraldError(ErrorCode.INVALID_INPUT, 'invalid request');
          reply = { ok: true, data: await handler(parsed.data) };
        } catch (e) {
          if (!HeraldError.is(e)) logger.error({ err: e, subject }, 'rpc handler failed');
          reply = { ok: false, error: toErrorBody(e) };
        }
        if (msg.reply) msg.respond(encodeJson(reply));
      })();
    },
  });
}
