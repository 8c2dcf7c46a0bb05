import { ErrorCode, HeraldError } from '@herald/contracts';
import type { Logger } from '@herald/observability';
import type { ExtendedError } from 'socket.io';
import type { HeraldSocket } from '../common/herald-socket.types';
import { ConnectionLimiter, TOO_MANY_CONNECTIONS_MESSAGE } from '../limits/connection-limiter.service';
import type { Lease } from '../limits/lease-pool';

type Middleware = (socket: HeraldSocket, next: (err?: ExtendedError) => void) => void;

/** The connection's slot, released once with the socket (see connectionLimitMiddleware). */
const SLOT = Symbol('herald.connection-slot');
type WithSlot = HeraldSocket & { [SLOT]?: Lease };

function refusal(err: unknown): ExtendedError {
  const body = HeraldError.is(err)
    ? err.toBody()
    : { code: ErrorCode.UNAVAILABLE, message: 'The service is busy. Please try again shortly.' };
  const refused: ExtendedError = new Error(body.code === ErrorCode.TOO_MANY_CONNECTIONS ? TOO_MANY_CONNECTIONS_MESSAGE : 'unavailable');
  refused.data = { code: body.code, message: body.message };
  return refused;
}

/**
 * Runs after the auth middleware: takes one of the user's connection slots
 * (MAX_CONNECTIONS_PER_USER, across instances, shared with SSE streams) or refuses the
 * handshake with `connect_error` `{ message: "too many connections", data.code:
 * "TOO_MANY_CONNECTIONS" }`. The slot is released with the socket (releaseConnectionSlot on
 * disconnect), or at once when the connection never opens (the client left during the
 * handshake).
 */
export function connectionLimitMiddleware(limiter: ConnectionLimiter, logger: Logger): Middleware {
  return (socket, next) => {
    limiter.admit(socket.data.userId).then(
      (slot) => {
        if (socket.conn.readyState !== 'open') {
          limiter.release(slot);
          next(refusal(new HeraldError(ErrorCode.UNAVAILABLE, 'The connection closed during the handshake.')));
          return;
        }
        (socket as WithSlot)[SLOT] = slot;
        next();
        // Socket.IO drops a socket whose transport closed before it connected, without a
        // disconnect event: give that slot back.
        setImmediate(() => {
          if (!socket.connected) releaseConnectionSlot(limiter, socket);
        });
      },
      (err: unknown) => {
        if (!HeraldError.is(err) || err.code !== ErrorCode.TOO_MANY_CONNECTIONS)
          logger.warn({ err: String(err) }, 'connection limit failed');
        next(refusal(err));
      },
    );
  };
}

/** Frees the socket's connection slot (idempotent). */
export function releaseConnectionSlot(limiter: ConnectionLimiter, socket: HeraldSocket): void {
  const slot = (socket as WithSlot)[SLOT];
  if (!slot) return;
  (socket as WithSlot)[SLOT] = undefined;
  limiter.release(slot);
}
