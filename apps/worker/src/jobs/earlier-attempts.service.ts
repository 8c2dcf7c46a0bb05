import { Inject, Injectable } from '@nestjs/common';
import type { AgentJob, Subjects } from '@herald/contracts';
import { decodeJson, NATS, SUBJECTS } from '@herald/messaging';
import type { NatsConnection } from 'nats';

/** What an earlier attempt of a step stored before it died: its deltas, to carry on after them. */
export interface EarlierAttempt {
  /** Characters of message deltas already stored, per message id. */
  deltaChars: Map<string, number>;
  /** The highest delta sequence number used (`<runId>:<step>:d<k>`). */
  lastDelta: number;
}

const READ_TIMEOUT_MS = 3000;

/**
 * Reads the run's stored events (a short-lived ordered consumer on the run's subject) and
 * keeps those whose JetStream msg id belongs to this step's deltas. Only a retried or
 * stalled-then-restarted job pays for this.
 */
@Injectable()
export class EarlierAttempts {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
  ) {}

  async of(job: AgentJob): Promise<EarlierAttempt> {
    const found: EarlierAttempt = { deltaChars: new Map(), lastDelta: 0 };
    const prefix = `${job.runId}:${job.step}:d`;
    const consumer = await this.nc.jetstream().consumers.get(this.subjects.streams.events, {
      filterSubjects: this.subjects.events(job.userId, job.conversationId, job.runId),
    });
    const { num_pending: pending } = await consumer.info(true);
    if (pending === 0) return found;
    let seen = 0;
    for await (const msg of await consumer.fetch({ max_messages: pending, expires: READ_TIMEOUT_MS })) {
      seen++;
      const msgId = msg.headers?.get('Nats-Msg-Id') ?? '';
      if (msgId.startsWith(prefix)) {
        const event = decodeJson<{ type: string; data: { messageId: string; delta: string } }>(msg.data);
        if (event.type === 'message_delta') {
          found.deltaChars.set(event.data.messageId, (found.deltaChars.get(event.data.messageId) ?? 0) + event.data.delta.length);
          found.lastDelta = Math.max(found.lastDelta, Number(msgId.slice(prefix.length)) || 0);
        }
      }
      if (seen >= pending) break;
    }
    return found;
  }
}
