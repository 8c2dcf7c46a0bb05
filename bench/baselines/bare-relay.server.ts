/**
 * Baseline 2, the bare relay: one Node process with a Socket.IO server and one core NATS
 * subscription to the producers' subjects; each message is parsed and emitted to the
 * user's room. No JetStream, no validation, no per-user subscription: the least a relay
 * over NATS can do.
 */
import { SERVER_EVENTS } from '@herald/contracts';
import { connectNats, decodeJson } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { serveParent } from '../lib/ipc';
import { startBaselineServer } from './baseline-socket-server';

let nc: NatsConnection | undefined;

serveParent(
  {
    start: async ({ natsUrl, namespace }: { natsUrl: string; namespace: string }) => {
      const { io, port } = await startBaselineServer('bare-relay');
      nc = await connectNats({ url: natsUrl, name: 'bench-bare-relay' });
      nc.subscribe(`${namespace}.bare.>`, {
        callback: (err, msg) => {
          if (err) return;
          const token = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
          io.local.to(`user:${token}`).emit(SERVER_EVENTS.agentEvent, decodeJson(msg.data));
        },
      });
      await nc.flush();
      return { port };
    },
  },
  async () => {
    await nc?.drain().catch(() => undefined);
  },
);
