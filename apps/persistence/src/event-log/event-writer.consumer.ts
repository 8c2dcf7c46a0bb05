import type { Subjects } from '@herald/contracts';
import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig, type JetStreamManager } from 'nats';

/**
 * How long JetStream waits for an event's ack before handing it to another instance: how long
 * the events a crashed instance had taken stay out of the event log. Writes that take longer
 * keep their events (EVENT_WRITER_HEARTBEAT_MS), so only a dead instance loses them.
 */
export const EVENT_WRITER_ACK_WAIT_MS = 10_000;
/** How often an instance tells JetStream it is still working on the events it holds. */
export const EVENT_WRITER_HEARTBEAT_MS = 3_000;
const EVENT_WRITER_MAX_ACK_PENDING = 20_000;

/** JetStream's API error code for "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

/**
 * Creates the event writer's durable pull consumer on the EVENTS stream, or updates it to
 * these settings. Every persistence instance calls this at start and they share the one
 * durable: JetStream spreads the events among them.
 */
export async function ensureEventWriterConsumer(jsm: JetStreamManager, s: Subjects): Promise<void> {
  const stream = s.streams.events;
  const durable = s.consumers.persistenceEvents;
  const mutable = {
    ack_wait: nanos(EVENT_WRITER_ACK_WAIT_MS),
    max_ack_pending: EVENT_WRITER_MAX_ACK_PENDING,
    max_deliver: -1,
    description: 'persistence: writes every event to the Postgres event log',
  };
  const config: Partial<ConsumerConfig> = {
    ...mutable,
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: s.eventsAll,
  };
  const existing = await jsm.consumers.info(stream, durable).catch((err: unknown) => {
    if (apiErrorCode(err) === CONSUMER_NOT_FOUND) return null;
    throw err;
  });
  if (!existing) {
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch (err) {
      // Another instance created it at the same moment: fall through and update it.
      if (!(await jsm.consumers.info(stream, durable).catch(() => null))) throw err;
    }
  }
  await jsm.consumers.update(stream, durable, mutable);
}

function apiErrorCode(err: unknown): number | undefined {
  const apiError = (err as { api_error?: { err_code?: unknown } } | null)?.api_error;
  return typeof apiError?.err_code === 'number' ? apiError.err_code : undefined;
}
