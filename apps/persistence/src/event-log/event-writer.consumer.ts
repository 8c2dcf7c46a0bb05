import type { Subjects } from '@herald/contracts';
import { ensureDurableConsumer } from '@herald/messaging';
import { AckPolicy, DeliverPolicy, nanos, type JetStreamManager } from 'nats';

/**
 * How long JetStream waits for an event's ack before handing it to another instance: how long
 * the events a crashed instance had taken stay out of the event log. Writes that take longer
 * keep their events (EVENT_WRITER_HEARTBEAT_MS), so only a dead instance loses them.
 */
export const EVENT_WRITER_ACK_WAIT_MS = 10_000;
/** How often an instance tells JetStream it is still working on the events it holds. */
export const EVENT_WRITER_HEARTBEAT_MS = 3_000;
const EVENT_WRITER_MAX_ACK_PENDING = 20_000;

/**
 * Creates the event writer's durable pull consumer on the EVENTS stream, or updates it to
 * these settings. Every persistence instance calls this at start and they share the one
 * durable: JetStream spreads the events among them.
 */
export async function ensureEventWriterConsumer(jsm: JetStreamManager, s: Subjects): Promise<void> {
  const mutable = {
    ack_wait: nanos(EVENT_WRITER_ACK_WAIT_MS),
    max_ack_pending: EVENT_WRITER_MAX_ACK_PENDING,
    max_deliver: -1,
    description: 'persistence: writes every event to the Postgres event log',
  };
  await ensureDurableConsumer(
    jsm,
    s.streams.events,
    {
      durable_name: s.consumers.persistenceEvents,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: s.eventsAll,
    },
    mutable,
  );
}
