/**
 * Peer (4) of issue 12: a Socket.IO 4.8 server as its users would scale it out, with the
 * Redis Streams adapter (`@socket.io/redis-streams-adapter`, its defaults) and connection
 * state recovery (its defaults: 2 minutes), the same handshake and per-user rooms as the
 * baselines. The bench runs two; a producer process emits the events to the rooms through
 * the same adapter (bench/agents/relay-producer.ts, `socketio` mode).
 */
import { serveParent } from '../lib/ipc';
import { type RedisClient, redisStreamsAdapter } from '../lib/peers';
import { type BaselineServer, startBaselineServer } from './baseline-socket-server';

let redis: RedisClient | undefined;
let server: BaselineServer | undefined;
/** Connections that came back with their session (connection state recovery), and those that did not. */
const reconnections = { recovered: 0, fresh: 0 };

serveParent(
  {
    start: async ({ redisUrl, streamName, name }: { redisUrl: string; streamName: string; name: string }) => {
      const { client, adapter } = await redisStreamsAdapter(redisUrl, streamName);
      redis = client;
      server = await startBaselineServer(
        name,
        (socket) => {
          if (socket.recovered) reconnections.recovered++;
          else if ((socket.handshake.auth as { pid?: unknown }).pid) reconnections.fresh++; // a reconnect whose session was not restored
        },
        { adapter, connectionStateRecovery: {} },
      );
      return { port: server.port };
    },
    reconnections: () => reconnections,
  },
  async () => {
    void server?.io.close();
    await redis?.quit().catch(() => undefined);
  },
);
