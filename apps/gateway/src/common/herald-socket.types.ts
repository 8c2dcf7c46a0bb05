import type { ClientToServerEvents, ServerToClientEvents } from '@herald/contracts';
import type { Server, Socket } from 'socket.io';

/** What the handshake established about a socket (set by the auth middleware). */
interface SocketUser {
  userId: string;
  /** Token expiry, epoch ms. */
  expiresAt: number;
}

type NoInterServerEvents = Record<string, never>;

export type HeraldServer = Server<ClientToServerEvents, ServerToClientEvents, NoInterServerEvents, SocketUser>;
export type HeraldSocket = Socket<ClientToServerEvents, ServerToClientEvents, NoInterServerEvents, SocketUser>;
