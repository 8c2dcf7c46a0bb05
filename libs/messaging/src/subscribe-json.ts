import type { Msg, NatsConnection, Subscription } from 'nats';
import type { z } from 'zod';
import { decodeJsonOrUndefined } from './codec';
import type { Logger } from '@herald/observability';

/**
 * Subscribes to a core NATS subject whose messages are JSON of `schema`: `handler` gets each
 * valid one. A message that is not JSON or does not fit, and a handler that throws, are
 * logged and dropped: nothing is thrown into the NATS client.
 */
export function subscribeJson<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  schema: S,
  handler: (value: z.infer<S>, msg: Msg) => void,
  logger?: Logger,
): Subscription {
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) {
        logger?.warn({ err, subject }, 'subscription error');
        return;
      }
      const parsed = schema.safeParse(decodeJsonOrUndefined(msg.data));
      if (!parsed.success) {
        logger?.warn({ subject }, 'ignored a malformed message');
        return;
      }
      try {
        handler(parsed.data, msg);
      } catch (handlerErr) {
        logger?.error({ err: handlerErr, subject }, 'message handler failed');
      }
    },
  });
}
