import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import type { OriginPolicy } from '../http/origin-policy';

/** PROTOCOL.md §1 and §7: path, transports, heartbeat, frame size limit. */
const SOCKET_OPTIONS: Partial<ServerOptions> = {
  path: '/socket.io',
  transports: ['polling', 'websocket'],
  pingInterval: 25_000,
  pingTimeout: 20_000,
  // A bigger frame closes that one connection (engine.io / ws enforce it).
  maxHttpBufferSize: 64 * 1024,
  serveClient: true,
};

export class HeraldIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly origins: OriginPolicy,
  ) {
    super(app);
  }

  /**
   * A browser page of another origin is refused at the handshake (CORS does not cover
   * WebSocket: the server must look at `Origin` itself); CORS headers for polling name only
   * CORS_ORIGINS (the page's own origin needs none).
   */
  override createIOServer(port: number, options?: ServerOptions): Server {
    const listed = this.origins.listed;
    return super.createIOServer(port, {
      ...options,
      ...SOCKET_OPTIONS,
      cors: { origin: listed === '*' ? true : listed },
      allowRequest: (req, callback) => callback(null, this.origins.allows(req.headers)),
    } as ServerOptions);
  }

  /**
   * Herald's gateway has no `@SubscribeMessage` handlers (ClientEventHandlers binds one
   * listener per socket itself), yet Nest's adapter builds an rxjs disconnect pipeline for
   * every socket all the same: about 1 KB per idle connection, for nothing.
   */
  override bindMessageHandlers(...args: Parameters<IoAdapter['bindMessageHandlers']>): void {
    const [, handlers] = args;
    if (handlers.length > 0) super.bindMessageHandlers(...args);
  }
}
