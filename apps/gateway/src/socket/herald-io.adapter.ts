import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';

/** PROTOCOL.md §1 and §7: path, transports, heartbeat, frame size limit, open CORS. */
export const SOCKET_OPTIONS: Partial<ServerOptions> = {
  path: '/socket.io',
  transports: ['polling', 'websocket'],
  pingInterval: 25_000,
  pingTimeout: 20_000,
  // A bigger frame closes that one connection (engine.io / ws enforce it).
  maxHttpBufferSize: 64 * 1024,
  cors: { origin: '*' },
  serveClient: true,
};

export class HeraldIoAdapter extends IoAdapter {
  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, { ...options, ...SOCKET_OPTIONS } as ServerOptions);
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
