import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subjects } from '@herald/contracts';
import { describeDatabaseError, isDataError } from '@herald/db';
import { DurableConsumerLoop, LOGGER, NATS, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { setTimeout as delay } from 'node:timers/promises';

import { DatabaseMetrics } from '../infrastructure/database-metrics.service';
import { EventLogRepository } from './event-log.repository';
import { parseEventMessage } from './event-message.parser';
import { EventLogMetrics } from './event-log-metrics.service';
import { ensureEventWriterConsumer, EVENT_WRITER_HEARTBEAT_MS } from './event-writer.consumer';
import type { LoggedEvent } from './logged-event';
import { MessageBatcher } from './message-batcher';

const BATCH = { maxSize: 500, lingerMs: 5, maxWaitMs: 50 };
/** Messages JetStream hands this instance ahead of the batches being written. */
const PULL_WINDOW = 1500;
/** Batches written at once, each in its own transaction (idempotent, runs locked in id order). */
const WRITES_IN_FLIGHT = 2;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/** A message and its events: it is acknowledged, handed back or terminated as one. */
interface Pending {
  msg: JsMsg;
  events: LoggedEvent[];
}

/**
 * Writes every event of the EVENTS stream to the Postgres event log, in batches, through the
 * durable consumer all persistence instances share. A batch is acknowledged only once its
 * transaction has committed; if the database fails, it is handed back (nak with a growing
 * delay) and written again later, which is harmless since writes are idempotent. An event
 * that can never be written is logged and terminated, so it never blocks the stream.
 */
@Injectable()
export class EventWriter implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer?: DurableConsumerLoop;
  private readonly stopping = new AbortController();
  private failures = 0;
  /** Events taken in a batch and not yet acknowledged (or handed back), with when they were last reported in progress. */
  private readonly held = new Map<JsMsg, number>();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly eventLog: EventLogRepository,
    private readonly metrics: EventLogMetrics,
    private readonly databaseMetrics: DatabaseMetrics,
  ) {}

  async onApplicationBootstrap() {
    this.consumer = await DurableConsumerLoop.start({
      nc: this.nc,
      stream: this.subjects.streams.events,
      durable: this.subjects.consumers.persistenceEvents,
      ensure: (jsm) => ensureEventWriterConsumer(jsm, this.subjects),
      pullWindow: PULL_WINDOW,
      handle: (messages) => this.consume(messages),
      name: 'event writer',
      logger: this.logger,
    });
    this.heartbeat = setInterval(() => this.reportProgress(), EVENT_WRITER_HEARTBEAT_MS).unref();
    this.logger.info({ stream: this.subjects.streams.events, durable: this.subjects.consumers.persistenceEvents }, 'writing events');
  }

  /** Finishes the batch being written, then stops; what is left is redelivered to another instance. */
  async onModuleDestroy() {
    this.stopping.abort();
    await this.consumer?.stop();
    clearInterval(this.heartbeat);
  }

  /**
   * A batch that waits long on Postgres (a lock, a slow disk) keeps its events: JetStream is
   * told they are in progress, so it hands them to another instance only if this one dies.
   */
  private reportProgress(): void {
    const due = Date.now() - EVENT_WRITER_HEARTBEAT_MS;
    for (const [msg, since] of this.held) {
      if (since > due) continue;
      msg.working();
      this.held.set(msg, Date.now());
    }
  }

  private release(batch: readonly JsMsg[]): void {
    for (const msg of batch) this.held.delete(msg);
  }

  private async consume(messages: ConsumerMessages): Promise<void> {
    const batcher = new MessageBatcher<JsMsg>(messages[Symbol.asyncIterator](), BATCH);
    const writing = new Set<Promise<void>>();
    try {
      // Ends when the consumer is closed (shutdown) or fails; the batches in hand are written first.
      // Up to WRITES_IN_FLIGHT batches are written at once (as several instances would):
      // the next batch is read while a transaction waits on Postgres.
      for (let batch = await batcher.next(); batch.length > 0; batch = await batcher.next()) {
        const written: Promise<void> = this.process(batch).finally(() => writing.delete(written));
        writing.add(written);
        if (writing.size >= WRITES_IN_FLIGHT) await Promise.race(writing);
      }
    } finally {
      await Promise.all(writing);
      await messages.close().catch(() => undefined);
      (await batcher.leftover().catch(() => undefined))?.nak();
    }
  }

  /** Writes a batch; after a failure (the batch handed back), pauses before the next one. */
  private async process(batch: JsMsg[]): Promise<void> {
    const taken = Date.now();
    for (const msg of batch) this.held.set(msg, taken);
    let retryInMs: number | undefined;
    try {
      retryInMs = await this.writeBatch(batch);
    } finally {
      this.release(batch); // acknowledged or handed back: no longer in progress here
    }
    if (retryInMs !== undefined) await this.pause(retryInMs);
  }

  /** Resolves with the delay before trying again when the batch was handed back. */
  private async writeBatch(batch: JsMsg[]): Promise<number | undefined> {
    const pending: Pending[] = [];
    for (const msg of batch) {
      const { events, refused } = parseEventMessage(msg);
      for (const reason of refused) this.refuse(msg, reason);
      if (events.length === 0) msg.term();
      else pending.push({ msg, events });
    }
    if (pending.length === 0) return undefined;
    const events = pending.reduce((n, p) => n + p.events.length, 0);
    const started = Date.now();
    try {
      await this.write(pending);
      this.failures = 0;
      this.metrics.written.inc(events);
      this.metrics.batchSize.observe(events);
      this.metrics.writeSeconds.observe((Date.now() - started) / 1000);
      this.logger.debug({ events, ms: Date.now() - started }, 'events written');
      return undefined;
    } catch (err) {
      this.failures += 1;
      this.databaseMetrics.failed('write_events', err);
      const retryInMs = Math.min(RETRY_MIN_MS * 2 ** (this.failures - 1), RETRY_MAX_MS);
      this.logger.error({ err: describeDatabaseError(err), events, retryInMs }, 'could not write events; will retry');
      for (const p of pending) p.msg.nak(retryInMs); // a no-op for those already acknowledged
      return retryInMs;
    }
  }

  /**
   * Writes the batch in one transaction and acknowledges it. If the rows themselves were
   * refused, writes them message by message, then event by event, to find the culprit, which
   * is dropped (a message none of whose events could be written is terminated). Any other
   * failure is thrown: the caller hands back whatever is not acknowledged yet (a message is
   * acknowledged only once all its events are written; writing one again is harmless).
   */
  private async write(pending: Pending[]): Promise<void> {
    try {
      await this.eventLog.writeBatch(pending.flatMap((p) => p.events));
      for (const p of pending) p.msg.ack();
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
    }
    if (pending.length > 1) {
      for (const p of pending) await this.write([p]);
      return;
    }
    const [{ msg, events }] = pending;
    let written = 0;
    for (const event of events) {
      try {
        await this.eventLog.writeBatch([event]);
        written++;
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.refuse(msg, `refused by the database: ${describeDatabaseError(err).message}`);
      }
    }
    if (written > 0) msg.ack();
    else msg.term();
  }

  private refuse(msg: JsMsg, reason: string): void {
    this.metrics.dropped.inc();
    this.logger.warn({ seq: msg.seq, subject: msg.subject, reason }, 'event dropped from the event log');
  }

  private pause(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}
