/**
 * Baseline 1, the upper bound for this stack: one Node process with a Socket.IO server that
 * runs the same agents in-process (libs/agents: the built-in agents, runAgent, the local
 * engine, the knowledge base in Postgres through PgKnowledgeBase) and emits the same events
 * straight to the user's room. It uses the worker's own event sink (same delta coalescing,
 * same progress), with a publisher that emits instead of publishing to JetStream. No
 * persistence, no queue, no hop.
 *
 * For the relay workload it produces the same tagged events itself, at the asked rate.
 */
import { randomUUID } from 'node:crypto';
import { AgentRegistry, builtInAgents, LocalEngine, PgKnowledgeBase, runAgent, type AgentResources } from '@herald/agents';
import {
  AGENT,
  type AgentJob,
  chatSendSchema,
  type EventData,
  type EventType,
  HeraldError,
  parseInput,
  SERVER_EVENTS,
  type StoredEvent,
  type TraceLevel,
} from '@herald/contracts';
import type { Logger, PublishOptions, RunScope } from '@herald/messaging';
import { Pool } from 'pg';
import type { Server } from 'socket.io';
import { JobEventSink } from '../../apps/worker/src/jobs/job-event-sink';
import { serveParent } from '../lib/ipc';
import { paceOpenLoop } from '../lib/pacer';
import { IdClock, relayEvent, relayRun } from '../lib/relay-event';
import { roomOf, startBaselineServer } from './baseline-socket-server';

const PROGRESS = { started: 0.02, triage: [0.05, 0.15], knowledge: [0.15, 0.5], reporting: [0.5, 0.97] } as const;
const MAX_MESSAGE_CHARS = 8000;

const ids = new IdClock();
const quietLogger = { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;

let io: Server | undefined;
let pool: Pool | undefined;
const engine = new LocalEngine({ tokenDelayMs: 0 });
const registry = new AgentRegistry(builtInAgents);
let resources: AgentResources | undefined;

/** EventPublisher's interface, emitting to the user's room with the next id. */
const publisher = {
  async publish<T extends EventType>(
    scope: RunScope,
    type: T,
    data: EventData<T>,
    opts: Omit<PublishOptions, 'msgId'> & { msgId?: string },
  ) {
    const id = ids.next();
    const event = {
      id,
      type,
      runId: scope.runId,
      conversationId: scope.conversationId,
      ts: new Date().toISOString(),
      progress: Math.round(opts.progress * 1000) / 1000,
      data,
      ...(opts.trace ? { trace: opts.trace } : {}),
    } as StoredEvent & { id: string };
    io?.local.to(roomOf(scope.userId)).emit(SERVER_EVENTS.agentEvent, event);
    return Number(id);
  },
};

interface DirectRun extends RunScope {
  messageId: string;
  question: string;
  traceLevel: TraceLevel;
  stream: boolean;
}

/** The supervisor's flow, in-process: triage → knowledge (when planned) → reporting. */
async function execute(run: DirectRun): Promise<void> {
  const startedAt = Date.now();
  const signal = new AbortController().signal;
  const usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  const findings: Record<string, unknown> = { question: run.question, intent: 'question', passages: [] };
  let step = 0;
  const runStep = async (agent: string, [from, to]: readonly [number, number]) => {
    const job: AgentJob = {
      runId: run.runId,
      userId: run.userId,
      conversationId: run.conversationId,
      messageId: run.messageId,
      agent,
      step: step++,
      input: { ...findings },
      history: [],
      traceLevel: run.traceLevel,
      stream: run.stream,
      progress: { from, to },
    };
    const sink = new JobEventSink(publisher, job, signal, quietLogger, true);
    try {
      const result = await runAgent(registry.get(agent)!, {
        step: { runId: run.runId, conversationId: run.conversationId, messageId: run.messageId, step: job.step, stream: run.stream },
        input: job.input,
        history: [],
        traceLevel: run.traceLevel,
        sink,
        model: engine,
        resources: resources!,
        signal,
      });
      usage.promptTokens += result.usage?.promptTokens ?? 0;
      usage.completionTokens += result.usage?.completionTokens ?? 0;
      return result.output;
    } finally {
      await sink.settled();
    }
  };
  try {
    await publisher.publish(run, 'orchestration_started', {}, { progress: PROGRESS.started });
    const triage = await runStep(AGENT.triage, PROGRESS.triage);
    findings.intent = typeof triage.intent === 'string' ? triage.intent : 'question';
    const plan = Array.isArray(triage.plan) ? triage.plan : [];
    if (plan.includes(AGENT.knowledge)) {
      const knowledge = await runStep(AGENT.knowledge, PROGRESS.knowledge);
      findings.passages = Array.isArray(knowledge.passages) ? knowledge.passages : [];
    }
    await runStep(AGENT.reporting, plan.includes(AGENT.knowledge) ? PROGRESS.reporting : [PROGRESS.triage[1], PROGRESS.reporting[1]]);
    usage.totalTokens = usage.promptTokens + usage.completionTokens;
    await publisher.publish(run, 'orchestration_completed', { durationMs: Date.now() - startedAt, usage }, { progress: 1 });
  } catch {
    await publisher.publish(
      run,
      'error',
      { code: 'INTERNAL', message: 'The assistant ran into a problem.', retryable: true },
      { progress: 1 },
    );
  }
}

serveParent(
  {
    start: async ({ databaseUrl }: { databaseUrl: string }) => {
      pool = new Pool({ connectionString: databaseUrl, options: '-c default_transaction_read_only=on', max: 10 });
      pool.on('error', () => undefined);
      resources = { knowledgeBase: new PgKnowledgeBase(pool), agents: registry };
      const server = await startBaselineServer('direct', (socket) => {
        socket.on('chat:send', (payload: unknown, ack?: (res: unknown) => void) => {
          try {
            const input = parseInput(chatSendSchema(MAX_MESSAGE_CHARS), payload);
            const run: DirectRun = {
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
            void execute(run);
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
    await pool?.end().catch(() => undefined);
  },
);
