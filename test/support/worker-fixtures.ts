import { randomUUID } from 'node:crypto';
import type { AgentJob } from '@herald/contracts';
import type { Chunk } from './worker-harness';

export const CHUNKS: Chunk[] = [
  {
    id: 'kb-jetstream-1',
    documentId: 'doc-jetstream',
    title: 'NATS JetStream',
    content:
      'JetStream is the persistence layer of NATS. It stores messages in streams, on disk or in memory. ' +
      'Every stored message gets a stream sequence number that only grows. Herald uses the sequence of the EVENTS stream as the event id.',
  },
  {
    id: 'kb-jetstream-2',
    documentId: 'doc-jetstream',
    title: 'JetStream consumers',
    content:
      'Consumers read messages from a stream at their own pace. A durable consumer remembers its position across restarts. ' +
      'An ordered consumer delivers messages in stream order.',
  },
  {
    id: 'kb-bullmq-1',
    documentId: 'doc-bullmq',
    title: 'BullMQ retries',
    content:
      'BullMQ retries a failed job up to its attempts, with a backoff between tries. An UnrecoverableError fails the job at once, without retries.',
  },
  {
    id: 'kb-resume-1',
    documentId: 'doc-protocol',
    title: 'Resuming events',
    content:
      'A client that reconnects sends events:resume with the id of the last event it saw. The server replays every later event, then switches to live delivery.',
  },
];

/** A step as the supervisor would queue it. */
export function agentJob(agent: string, step: number, input: Record<string, unknown>, overrides: Partial<AgentJob> = {}): AgentJob {
  return {
    runId: randomUUID(),
    userId: 'user.with*odd>chars',
    conversationId: randomUUID(),
    messageId: randomUUID(),
    agent,
    step,
    input,
    history: [],
    traceLevel: 'none',
    stream: false,
    progress: { from: 0.1, to: 0.4 },
    ...overrides,
  };
}
