import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_TYPES, isTerminal, type EventType, type Subjects } from '@herald/contracts';
import { decodeJson, LOGGER, type Logger, NATS, SUBJECTS, withTimeout } from '@herald/messaging';
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { setTimeout as delay } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { parseEventMessage } from '../event-log/event-message.parser';
import type { LoggedEvent } from '../event-log/logged-event';
import { closeWhenConsumerIsGone, ensureDurableConsumer } from '../infrastructure/durable-consumer';
import { sql } from '../infrastructure/sql';
import { webhookPayloadOf } from './webhook-message';
import { WebhookQueue } from './webhook-queue';

/** How long a terminal event taken by a crashed instance waits before another takes it. */
const ACK_WAIT_MS = 30_000;
/** Looking up the answer's id and queueing: beyond this the event is handed back and tried again. */
const STEP_TIMEOUT_MS = 5_000;
const RETRY_DELAY_MS = 2_000;
const RESTART_DELAY_MS = 1_000;
const PULL_WINDOW = 512;
/**
 * A consumer that no instance has read for this long is removed by JetStream: webhooks that
 * are switched off for a day leave nothing behind, and switching them on again starts with
 * the runs that end from then on (a new consumer delivers only new events).
 */
const INACTIVE_THRESHOLD_MS = 24 * 3_600_000;

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
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private readonly stopping = new AbortController();

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly queue: WebhookQueue,
  ) {}

  async onApplicationBootstrap() {
    await this.ensureConsumer();
    this.loop = this.run();
    this.logger.info({ stream: this.subjects.streams.events, durable: this.subjects.consumers.persistenceWebhooks }, 'queueing webhooks');
  }

  async onModuleDestroy() {
    this.stopping.abort();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  private ensureConsumer(): Promise<void> {
    return this.nc.jetstreamManager().then((jsm) =>
      ensureDurableConsumer(
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
      ),
    );
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Consumes until shutdown; if the consumer goes away (deleted, NATS trouble), starts over. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.consume();
      } catch (err) {
        this.logger.error({ err }, 'webhook consumer failed');
      }
      if (this.stopped) break;
      await this.pause(RESTART_DELAY_MS);
      await this.ensureConsumer().catch((err) => this.logger.warn({ err }, 'could not ensure the webhook consumer'));
    }
  }

  private async consume(): Promise<void> {
    const consumer = await this.nc.jetstream().consumers.get(this.subjects.streams.events, this.subjects.consumers.persistenceWebhooks);
    const messages = await consumer.consume({ max_messages: PULL_WINDOW });
    this.messages = messages;
    if (this.stopped) await messages.close();
    void closeWhenConsumerIsGone(messages, (status) => this.logger.warn({ status }, 'webhook consumer is gone; recreating it'));
    for await (const msg of messages) await this.handle(msg);
  }

  private async handle(msg: JsMsg): Promise<void> {
    if (!isTerminalMessage(msg)) return msg.ack();
    const parsed = terminalEventOf(msg);
    if (!parsed.ok) {
      this.logger.warn({ seq: msg.seq, reason: parsed.reason }, 'terminal event not valid: no webhook');
      return msg.term();
    }
    const { event } = parsed;
    try {
      const messageId =
        event.type === 'orchestration_completed' ? await withTimeout(this.answerIdOf(event.runId), STEP_TIMEOUT_MS, 'postgres') : undefined;
      const payload = webhookPayloadOf(event, messageId);
      if (payload) await withTimeout(this.queue.enqueue(payload), STEP_TIMEOUT_MS, 'redis');
      msg.ack();
    } catch (err) {
      this.logger.warn({ err, runId: event.runId, retryInMs: RETRY_DELAY_MS }, 'could not queue the webhook of a run; will retry');
      msg.nak(RETRY_DELAY_MS);
    }
  }

  /** The id of a completed run's answer (the gateway gave it at admission; the `message` event carries it). */
  private async answerIdOf(runId: string): Promise<string | undefined> {
    const { rows } = await sql<{ message_id: string }>(this.dataSource.manager, `SELECT message_id FROM runs WHERE id = $1`, [runId]);
    return rows[0]?.message_id;
  }

  private pause(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}

/** Whether a message of EVENTS holds a run's terminal event, from the `type`s alone (no validation of the rest). */
function isTerminalMessage(msg: JsMsg): boolean {
  try {
    const body = decodeJson(msg.data);
    return (Array.isArray(body) ? body : [body]).some((event: unknown) => {
      const type = (event as { type?: unknown } | null)?.type;
      return typeof type === 'string' && EVENT_TYPE_SET.has(type) && isTerminal(type as EventType);
    });
  } catch {
    return false; // not JSON: the event writer terminates it
  }
}

/** The terminal event of a message isTerminalMessage accepted (the run's last: a message holds one run's events), validated. */
function terminalEventOf(msg: JsMsg): { ok: true; event: LoggedEvent } | { ok: false; reason: string } {
  const { events, refused } = parseEventMessage(msg);
  const event = events.filter((e) => isTerminal(e.type)).at(-1);
  return event ? { ok: true, event } : { ok: false, reason: refused[0] ?? 'no terminal event' };
}
