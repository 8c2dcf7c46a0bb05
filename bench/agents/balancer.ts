/**
 * The crash case's balancer: a TCP proxy on loopback that spreads new connections
 * round-robin over the servers, skipping one that refuses, as a load balancer in front of
 * two Socket.IO servers (or Herald's two gateways) does. Clients that lose their server
 * reconnect to it and reach the other one.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { serveParent } from '../lib/ipc';

let server: Server | undefined;
const sockets = new Set<Socket>();

function track(socket: Socket): Socket {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  return socket;
}

serveParent(
  {
    start: async ({ backends }: { backends: Array<{ host: string; port: number }> }) => {
      let next = 0;
      server = createServer((client) => {
        track(client);
        client.pause();
        const attempt = (tried: number) => {
          if (tried >= backends.length || client.destroyed) return void client.destroy();
          const backend = backends[next++ % backends.length];
          const upstream = track(createConnection(backend));
          upstream.once('connect', () => {
            upstream.removeAllListeners('error');
            upstream.on('error', () => upstream.destroy());
            client.pipe(upstream).pipe(client);
            client.on('close', () => upstream.destroy());
            upstream.on('close', () => client.destroy());
            client.resume();
          });
          upstream.once('error', () => {
            upstream.destroy();
            attempt(tried + 1);
          });
        };
        attempt(0);
      });
      const port = await new Promise<number>((resolve) =>
        server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)),
      );
      return { port };
    },
  },
  () => {
    for (const s of sockets) s.destroy();
    server?.close();
  },
);
