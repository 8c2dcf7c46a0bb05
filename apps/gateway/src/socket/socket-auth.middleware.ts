import { ErrorCode } from '@herald/contracts';
import { TokenVerifier, UNAUTHORIZED_MESSAGE, UnauthorizedError } from '@herald/auth';
import type { Logger } from '@herald/observability';
import type { ExtendedError } from 'socket.io';
import type { HeraldSocket } from '../common/herald-socket.types';

type Middleware = (socket: HeraldSocket, next: (err?: ExtendedError) => void) => void;

/** The error a client receives as `connect_error`: `err.message` and `err.data` are the contract. */
function handshakeError(message: 'unauthorized' | 'unavailable', code: ErrorCode, text: string): ExtendedError {
  const err: ExtendedError = new Error(message);
  err.data = { code, message: text };
  return err;
}

/** The handshake token: `auth.token`, else the `token` query parameter. */
function handshakeToken(socket: HeraldSocket): unknown {
  const fromAuth = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
  if (fromAuth !== undefined) return fromAuth;
  return socket.handshake.query.token;
}

/**
 * Refuses the connection before it opens unless the handshake carries a valid token; on
 * success `socket.data` holds the user and the token's expiry. Never logs the token.
 */
export function socketAuthMiddleware(verifier: TokenVerifier, logger: Logger, isDraining: () => boolean): Middleware {
  return (socket, next) => {
    if (isDraining()) {
      next(handshakeError('unavailable', ErrorCode.UNAVAILABLE, 'This server is shutting down; please reconnect.'));
      return;
    }
    verifier.verify(handshakeToken(socket)).then(
      ({ userId, expiresAt }) => {
        socket.data.userId = userId;
        socket.data.expiresAt = expiresAt;
        next();
      },
      (err: unknown) => {
        const reason = UnauthorizedError.is(err) ? err.reason : 'verification failed';
        logger.info({ reason, address: socket.handshake.address }, 'socket handshake refused');
        next(handshakeError('unauthorized', ErrorCode.UNAUTHORIZED, UNAUTHORIZED_MESSAGE));
      },
    );
  };
}
