import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_TYPES, type EventType, isTerminal, isUuid, type Subjects } from '@herald/contracts';
import { decodeJsonOrUndefined, DurableConsumerLoop, ensureDurableConsumer, LOGGER, NATS, SUBJECTS, withTimeout } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JetStreamManager, type JsMsg, nanos, type NatsConnection } from 'nats';

import { DataSource } from 'typeorm';
import { parseEventBody } from '../event-log/event-message.parser';
import { sql } from '../infrastructure/sql';
import { webhookPayloadOf } from './webhook-message';
import { WebhookQueue } from './webhook-queue.service';

/** How long a terminal event taken by a crashed instance waits before another takes it. */
const ACK_WAIT_MS = 30_000;
/** Looking up the answer's id and queueing: beyond this the event is handed back and tried again. */
const STEP_TIMEOUT_MS = 5_000;
const RETRY_DELAY_MS = 2_000;
const PULL_WINDOW = 512;
/**
 * A consumer that no instance has read for this long is removed by JetStream: webhooks that
 * are switched off for a day leave nothing behind, and switching them on again starts with
 * the runs that end from then on (a new consumer delivers only new events).
 */
const INACTIVE_THRESHOLD_MS = 24 * 3_600_000;
/** Answer ids of the runs whose `message` event this instance has seen and whose end it has not. */
const MAX_REMEMBERED_ANSWERS = 10_000;

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * Turns the runs' terminal events into queued webhooks: a durable consumer of the EVENTS
 * stream of its own (the subjects do not name the event type, so it reads every event and
 * acknowledges all but the terminal ones at once), separate from the event writer's so that
 * Redis being away delays webhooks, never the event log. A terminal event is acknowledged
 * only once its deliveries are queued; queueing it again (JetStream redelivery) adds nothing.
 */
@Injectable()
export class WebhookEvents implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer?: DurableConsumerLoop;
  /**
   * A completed run's answer id, from its `message` event: the `orchestration_completed` that
   * follows finds it here. Instances share the consumer, so the two events may reach different
   * ones: then the id is read from Postgres.
   */
  private readonly answers = new Map<string, string>();

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly queue: WebhookQueue,
  ) {}

  async onApplicationBootstrap() {
    this.consumer = await DurableConsumerLoop.start({
      nc: this.nc,
      stream: this.subjects.streams.events,
      durable: this.subjects.consumers.persistenceWebhooks,
      ensure: (jsm) => this.ensureConsumer(jsm),
      pullWindow: PULL_WINDOW,
      handle: (messages) => this.consume(messages),
      name: 'webhook',
      logger: this.logger,
    });
    this.logger.info({ stream: this.subjects.streams.events, durable: this.subjects.consumers.persistenceWebhooks }, 'queueing webhooks');
  }

  async onModuleDestroy() {
    await this.consumer?.stop();
  }

  private ensureConsumer(jsm: JetStreamManager): Promise<void> {
    return ensureDurableConsumer(
      jsm,
      this.subjects.streams.events,
      {
        durable_name: this.subjects.consumers.persistenceWebhooks,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: this.subjects.eventsAll,
      },
      {
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: 2 * PULL_WINDOW,
        max_deliver: -1,
        inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
        description: 'persistence: queues a webhook for each run that ends (WEBHOOK_URLS)',
      },
    );
  }

  private async consume(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) await this.handle(msg);
  }

  /**
   * Decodes each message once (a group-committed array of one run's events, or one event as
   * stored before that): only a message holding a terminal event is validated in full.
   */
  private async handle(msg: JsMsg): Promise<void> {
    const body = decodeJsonOrUndefined(msg.data); // not JSON: the event writer terminates it
    const bodies: unknown[] = Array.isArray(body) ? body : [body];
    let terminal = false;
    for (const each of bodies) {
      const type = typeOf(each);
      if (type === 'message') this.rememberAnswer(each);
      if (type && isTerminal(type)) terminal = true;
    }
    if (!terminal) return msg.ack();
    const { events, refused } = parseEventBody(msg, body);
    // A message holds one run's events, and its terminal event is the run's last.
    const event = events.filter((e) => isTerminal(e.type)).at(-1);
    if (!event) {
      this.logger.warn({ seq: msg.seq, reason: refused[0] ?? 'no terminal event' }, 'terminal event not valid: no webhook');
      return msg.term();
    }
    try {
      const messageId =
        event.type === 'orchestration_completed' ? await withTimeout(this.answerIdOf(event.runId), STEP_TIMEOUT_MS, 'postgres') : undefined;
      const payload = webhookPayloadOf(event, messageId);
      if (payload) await withTimeout(this.queue.enqueue(payload), STEP_TIMEOUT_MS, 'redis');
      msg.ack();
      this.answers.delete(event.runId);
    } catch (err) {
      this.logger.warn({ err, runId: event.runId, retryInMs: RETRY_DELAY_MS }, 'could not queue the webhook of a run; will retry');
      msg.nak(RETRY_DELAY_MS);
    }
  }

  private rememberAnswer(body: unknown): void {
    const { runId, data } = body as { runId?: unknown; data?: { messageId?: unknown } | null };
    const messageId = data?.messageId;
    // Only a UUID becomes the stored answer's id (else the run's own is used): the same rule here.
    if (typeof runId !== 'string' || typeof messageId !== 'string' || !isUuid(messageId)) return;
    const key = runId.toLowerCase();
    this.answers.delete(key); // the run's last `message` is its answer
    // The oldest is forgotten first (a Map keeps insertion order): its run ended elsewhere, or long ago.
    if (this.answers.size >= MAX_REMEMBERED_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(key, messageId.toLowerCase());
  }

  /** The id of a completed run's answer: from its `message` event if it came here, else from the run's row (the gateway gave it at admission). */
  private async answerIdOf(runId: string): Promise<string | undefined> {
    const seen = this.answers.get(runId);
    if (seen) return seen;
    const { rows } = await sql<{ message_id: string }>(this.dataSource.manager, `SELECT message_id FROM runs WHERE id = $1`, [runId]);
    return rows[0]?.message_id;
  }
}

/** A known event type from the body's `type` alone (no validation of the rest). */
function typeOf(body: unknown): EventType | undefined {
  const type = (body as { type?: unknown } | null | undefined)?.type;
  return typeof type === 'string' && EVENT_TYPE_SET.has(type) ? (type as EventType) : undefined;
}
