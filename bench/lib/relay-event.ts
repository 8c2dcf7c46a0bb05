import { randomUUID } from 'node:crypto';
import { type EventData, type StoredEvent, userToken } from '@herald/contracts';

/**
 * The relay workload's events: a run's streamed answer (`message_delta`), about 300 bytes
 * as delivered. The delta starts with the measurement window's tag, so a late event of an
 * earlier window is never counted in a later one.
 */
const TEXT = 'JetStream keeps every lifecycle event of the run; the gateway relays it to each tab of the user, in order, as it happens. ';

function deltaOf(tag: string): EventData<'message_delta'>['delta'] {
  return `${tag}|${TEXT}`;
}

export function tagOf(delta: string): string {
  return delta.slice(0, delta.indexOf('|'));
}

/** One user's run in the relay workload: the ids its events are published under. */
export interface RelayRun {
  userId: string;
  conversationId: string;
  runId: string;
  messageId: string;
}

export function relayRun(userId: string): RelayRun {
  return { userId, conversationId: randomUUID(), runId: randomUUID(), messageId: randomUUID() };
}

/** The stored event (what the worker's EventPublisher puts in the stream, without the id). */
export function relayEvent(run: RelayRun, tag: string): StoredEvent {
  return {
    type: 'message_delta',
    runId: run.runId,
    conversationId: run.conversationId,
    ts: new Date().toISOString(),
    progress: 0.6,
    data: { messageId: run.messageId, delta: deltaOf(tag) },
  } as StoredEvent;
}

/** Strictly increasing decimal ids for the baselines (Herald's ids are stream sequences). */
export class IdClock {
  private last = 0;

  next(): string {
    this.last = Math.max(this.last + 1, Date.now() * 1000);
    return String(this.last);
  }
}

/** The bare relay baseline's core NATS subject for a user's events. */
export function bareSubject(namespace: string, userId: string): string {
  return `${namespace}.bare.${userToken(userId)}`;
}
