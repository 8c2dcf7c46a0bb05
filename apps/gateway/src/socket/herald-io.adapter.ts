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
}
