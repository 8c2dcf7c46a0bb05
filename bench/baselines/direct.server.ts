/**
 * Baseline 1, the upper bound for this stack: one Node process with a Socket.IO server that
 * runs the same agents in-process (bench/baselines/in-process-agents.ts) and emits the same
 * events straight to the user's room. No persistence, no queue, no hop.
 *
 * For the relay workload it produces the same tagged events itself, at the asked rate.
 */
import { randomUUID } from 'node:crypto';
import { chatSendSchema, HeraldError, parseInput, SERVER_EVENTS } from '@herald/contracts';
import type { Server } from 'socket.io';
import { serveParent } from '../lib/ipc';
import { paceOpenLoop } from '../lib/pacer';
import { IdClock, relayEvent, relayRun } from '../lib/relay-event';
import { roomOf, startBaselineServer } from './baseline-socket-server';
import { type EmitEvent, InProcessAgents, type InProcessRun } from './in-process-agents';

const MAX_MESSAGE_CHARS = 8000;

const ids = new IdClock();
let io: Server | undefined;
let agents: InProcessAgents | undefined;
const emit: EmitEvent = (userId, event) => io?.local.to(roomOf(userId)).emit(SERVER_EVENTS.agentEvent, event);

serveParent(
  {
    start: async ({ databaseUrl }: { databaseUrl: string }) => {
      agents = new InProcessAgents(databaseUrl);
      const server = await startBaselineServer('direct', (socket) => {
        socket.on('chat:send', (payload: unknown, ack?: (res: unknown) => void) => {
          try {
            const input = parseInput(chatSendSchema(MAX_MESSAGE_CHARS), payload);
            const run: InProcessRun = {
              userId: socket.data.userId as string,
              conversationId: input.conversationId === 'new' ? randomUUID() : input.conversationId,
              runId: randomUUID(),
              messageId: randomUUID(),
              question: input.content ?? '',
              traceLevel: input.options?.traceLevel ?? 'none',
              stream: input.options?.stream ?? false,
            };
            ack?.({
              ok: true,
              conversationId: run.conversationId,
              runId: run.runId,
              messageId: run.messageId,
              userMessageId: randomUUID(),
            });
            void agents?.execute(run, emit);
          } catch (err) {
            const error = HeraldError.is(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: 'internal' };
            ack?.({ ok: false, error });
          }
        });
      });
      io = server.io;
      return { port: server.port };
    },
    produce: async ({ users, rate, durationMs, tag }: { users: string[]; rate: number; durationMs: number; tag: string }) => {
      const runs = users.map(relayRun);
      const sent = await paceOpenLoop(rate, durationMs, (i) => {
        const run = runs[i % runs.length];
        io?.local.to(roomOf(run.userId)).emit(SERVER_EVENTS.agentEvent, { id: ids.next(), ...relayEvent(run, tag) });
      });
      return { sent, delivered: sent, failed: 0 };
    },
  },
  async () => {
    void io?.close(); // as before, not waited for: the process exits next
    await agents?.close();
  },
);
