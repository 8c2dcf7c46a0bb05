/**
 * A relay producer process. `jetstream` mode publishes exactly as the worker does (the
 * EventPublisher of libs/messaging: JetStream publish to the EVENTS stream, awaiting the
 * ack); `core` mode publishes the same envelopes, with their id, on plain core NATS
 * subjects for the bare relay baseline; `socketio` mode emits them, with their id, to the
 * user's room through a Socket.IO server with the Redis Streams adapter and no listener of
 * its own (peer 4 of issue 12: its servers relay what the adapter brings). One process does
 * about 20k JetStream publishes a second, so the bench runs several and gives each a share
 * of the users and of the rate.
 */
import { SERVER_EVENTS, subjects as subjectsOf } from '@herald/contracts';
import { connectNats, encodeJson, EventPublisher, JetStreamPublisher } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { Server } from 'socket.io';
import { roomOf } from '../baselines/baseline-socket-server';
import { serveParent } from '../lib/ipc';
import { type RedisClient, redisStreamsAdapter } from '../lib/peers';
import { paceOpenLoop } from '../lib/pacer';
import { bareSubject, IdClock, relayEvent, relayRun, type RelayRun } from '../lib/relay-event';

export interface ProducerInit {
  mode: 'jetstream' | 'core' | 'socketio';
  natsUrl: string;
  namespace: string;
  users: string[];
  /** `socketio` mode: the Redis and the adapter's stream. */
  redisUrl?: string;
  streamName?: string;
}

export interface ProduceRequest {
  rate: number;
  durationMs: number;
  tag: string;
}

export interface ProduceResult {
  sent: number;
  /** Published and acknowledged by JetStream (core mode: sent). */
  delivered: number;
  failed: number;
}

const ACK_TIMEOUT_MS = 15_000;

let nc: NatsConnection | undefined;
let init: ProducerInit | undefined;
let runs: RelayRun[] = [];
let publisher: EventPublisher | undefined;
let io: Server | undefined;
let redis: RedisClient | undefined;
const ids = new IdClock();
let sequence = 0;

serveParent(
  {
    init: async (args: ProducerInit) => {
      init = args;
      runs = args.users.map(relayRun);
      if (args.mode === 'socketio') {
        const { client, adapter } = await redisStreamsAdapter(args.redisUrl!, args.streamName!);
        redis = client;
        io = new Server({ adapter });
        return { users: runs.length };
      }
      nc = await connectNats({ url: args.natsUrl, name: 'bench-producer' });
      publisher = new EventPublisher(new JetStreamPublisher(nc), subjectsOf(args.namespace));
      return { users: runs.length };
    },
    produce: async ({ rate, durationMs, tag }: ProduceRequest): Promise<ProduceResult> => {
      if (!init || runs.length === 0) throw new Error('not initialised');
      const result: ProduceResult = { sent: 0, delivered: 0, failed: 0 };
      if (init.mode === 'socketio') {
        const server = io!;
        // The adapter appends to the Redis stream in the background: what it fails to append is lost.
        result.sent = result.delivered = await paceOpenLoop(rate, durationMs, (i) => {
          const run = runs[i % runs.length];
          server.to(roomOf(run.userId)).emit(SERVER_EVENTS.agentEvent, { id: ids.next(), ...relayEvent(run, tag) });
        });
        return result;
      }
      if (!nc || !publisher) throw new Error('not initialised');
      const acks: Promise<unknown>[] = [];
      const { mode, namespace } = init;
      const conn = nc;
      const pub = publisher;
      await paceOpenLoop(rate, durationMs, (i) => {
        const run = runs[i % runs.length];
        result.sent++;
        if (mode === 'core') {
          conn.publish(bareSubject(namespace, run.userId), encodeJson({ id: ids.next(), ...relayEvent(run, tag) }));
          result.delivered++;
          return;
        }
        const event = relayEvent(run, tag);
        acks.push(
          pub
            .publish(run, 'message_delta', event.data as { messageId: string; delta: string }, {
              progress: event.progress,
              msgId: `${run.runId}:${tag}:${++sequence}`,
              groupable: true, // as a job's first attempt: a user's events published while one is in flight share a message
            })
            .then(
              () => result.delivered++,
              () => result.failed++,
            ),
        );
      });
      if (mode === 'core') await conn.flush();
      else await Promise.race([Promise.all(acks), new Promise((r) => setTimeout(r, ACK_TIMEOUT_MS))]);
      result.failed = result.sent - result.delivered;
      return result;
    },
  },
  async () => {
    await nc?.drain().catch(() => undefined);
    await io?.of('/').adapter.close();
    await redis?.quit().catch(() => undefined);
  },
);
