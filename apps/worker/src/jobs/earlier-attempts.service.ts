import { Inject, Injectable } from '@nestjs/common';
import type { AgentJob, Subjects } from '@herald/contracts';
import { decodeJson, msgIdKeys, NATS, SUBJECTS, unpackEvents } from '@herald/messaging';
import type { NatsConnection } from 'nats';

/** What an earlier attempt of a step stored before it died: its events, to carry on after them. */
export interface EarlierAttempt {
  /** The numbers of the step's other events stored (`<runId>:<step>:e<n>`): a retry does not send them again. */
  events: Set<number>;
  /** Characters of message deltas already stored, per message id. */
  deltaChars: Map<string, number>;
  /** The highest delta sequence number used (`<runId>:<step>:d<k>`). */
  lastDelta: number;
}

const READ_TIMEOUT_MS = 3000;

/**
 * Reads the run's stored messages (a short-lived ordered consumer on the run's subject) and
 * keeps the events whose key (from the message's Nats-Msg-Id: one key per event of a group,
 * msgIdKeys) belongs to this step. Only a retried or stalled-then-restarted job pays for this.
 * JetStream de-duplicates messages, not the events grouped in one, so a retry must know which
 * events an earlier attempt stored, however it grouped them.
 */
@Injectable()
export class EarlierAttempts {
  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
  ) {}

  async of(job: AgentJob): Promise<EarlierAttempt> {
    const found: EarlierAttempt = { events: new Set(), deltaChars: new Map(), lastDelta: 0 };
    const prefix = `${job.runId}:${job.step}:`;
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
        const keys = msgIdKeys(msgId);
        const entries = unpackEvents(msg.seq, decodeJson(msg.data)) ?? [];
        entries.forEach(({ event }, i) => this.note(found, keys[i]?.slice(prefix.length) ?? '', event as StoredEntry));
      }
      if (seen >= pending) break;
    }
    return found;
  }

  private note(found: EarlierAttempt, key: string, event: StoredEntry): void {
    const n = Number(key.slice(1)) || 0;
    if (key.startsWith('e')) found.events.add(n);
    else if (key.startsWith('d') && event?.type === 'message_delta') {
      found.deltaChars.set(event.data.messageId, (found.deltaChars.get(event.data.messageId) ?? 0) + event.data.delta.length);
      found.lastDelta = Math.max(found.lastDelta, n);
    }
  }
}

type StoredEntry = { type: string; data: { messageId: string; delta: string } } | null;
