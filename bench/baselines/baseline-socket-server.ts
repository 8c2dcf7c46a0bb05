import { createServer, type Server as HttpServer } from 'node:http';
import { TokenVerifier } from '@herald/auth';
import { SERVER_EVENTS, userToken } from '@herald/contracts';
import { CLUSTER_JWT_SECRET } from '../../test/support/cluster';
import { Server, type ServerOptions, type Socket } from 'socket.io';

/** The user's room: every baseline addresses users, never sockets, as the gateway does. */
export function roomOf(userId: string): string {
  return `user:${userToken(userId)}`;
}

export interface BaselineServer {
  io: Server;
  http: HttpServer;
  port: number;
}

/**
 * A bare Socket.IO server with the gateway's transport settings (websocket, no deflate,
 * 25 s pings, 64 KiB frames) and the same handshake: HS256 token verified with jose, the
 * socket joined to its user's room, then `session:ready`. `options` adds to them (the
 * Socket.IO peer's adapter and connection state recovery).
 */
export async function startBaselineServer(
  name: string,
  onConnection: (socket: Socket) => void = () => undefined,
  options: Partial<ServerOptions> = {},
): Promise<BaselineServer> {
  const verifier = new TokenVerifier({ mode: 'secret', secret: process.env.JWT_SECRET ?? CLUSTER_JWT_SECRET });
  const http = createServer();
  const io = new Server(http, {
    path: '/socket.io',
    transports: ['polling', 'websocket'],
    pingInterval: 25_000,
    pingTimeout: 20_000,
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
    ...options,
  });
  io.use((socket, next) => {
    verifier.verify((socket.handshake.auth as { token?: unknown }).token).then(
      (verified) => {
        socket.data.userId = verified.userId;
        next();
      },
      () => next(Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHORIZED' } })),
    );
  });
  io.on('connection', (socket) => {
    const userId = socket.data.userId as string;
    void socket.join(roomOf(userId));
    onConnection(socket);
    socket.emit(SERVER_EVENTS.sessionReady, { userId, serverTime: new Date().toISOString(), instanceId: name });
  });
  const port = await new Promise<number>((resolve) =>
    http.listen(0, '127.0.0.1', () => resolve((http.address() as { port: number }).port)),
  );
  return { io, http, port };
}
