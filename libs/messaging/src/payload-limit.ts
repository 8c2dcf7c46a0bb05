import type { NatsConnection } from 'nats';

/** NATS's default max_payload, for a connection that has not said its own yet. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room kept below max_payload for a message's headers (traceparent, user, run, Nats-Msg-Id). */
export const HEADER_ROOM_BYTES = 4096;

/**
 * The most bytes of data one message may carry on `nc`: the server's max_payload (which
 * counts headers too) less HEADER_ROOM_BYTES. A larger publish would throw
 * MAX_PAYLOAD_EXCEEDED; every sender checks against this first and fails in its own way.
 */
export function payloadBudget(nc: Pick<NatsConnection, 'info'>): number {
  return (nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM_BYTES;
}
