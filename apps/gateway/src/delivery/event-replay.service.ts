import { type AgentEvent, PERSISTENCE_RPC, type Subjects } from '@herald/contracts';
import { firstEventIdAt, firstSequenceAfter, lastEventIdUpTo, LOGGER, RpcClient, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, nanos, type JetStreamClient, type JetStreamManager } from 'nats';
import { JETSTREAM, JETSTREAM_MANAGER } from '../core/core.tokens';
import { TIMEOUTS } from '../core/timeouts';
import { orUnavailable } from '../core/or-unavailable';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import { parseAgentEvent, toAgentEvents } from './agent-event.codec';
import { isLaterEventId } from './event-id';

export interface ReplayRequest {
  userId: string;
  /** Replay events whose id is greater than this one. */
  after: string;
  /** Only this conversation's events (a lower-case UUID). */
  conversationId?: string;
  /** Only this run's events (with its `conversationId`): the protocol adapters follow one run. */
  runId?: string;
  /** Stop after this many events (then `more` says whether any was left); default: no limit. */
  limit?: number;
}

export interface ReplayResult {
  /** The replay stopped at `limit` with events left to replay. */
  more: boolean;
}

/** How many events a replay may still emit; it learns of `more` when one more comes. */
class Budget {
  more = false;
  constructor(private left: number) {}

  take(): boolean {
    if (this.left > 0) {
      this.left--;
      return true;
    }
    this.more = true;
    return false;
  }
}

const FETCH_BATCH = 256;
const LOG_PAGE = 500;

/**
 * Re-delivers a user's stored events in id order: what the EVENTS stream no longer holds from
 * the Postgres event log, then the rest from the stream with an ephemeral consumer filtered
 * on the user's (or one conversation's) subjects. It stops at what was stored when it
 * started: what comes later arrives live.
 */
@Injectable()
export class EventReplayService {
  constructor(
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly rpc: RpcClient,
  ) {}

  async replay(req: ReplayRequest, emit: (event: AgentEvent) => void): Promise<ReplayResult> {
    const stream = this.subjects.streams.events;
    const { state } = await orUnavailable(() => this.jsm.streams.info(stream), TIMEOUTS.jetstreamApiMs, 'stream info');
    if (BigInt(req.after) >= BigInt(lastEventIdUpTo(state.last_seq))) return { more: false };
    const budget = new Budget(req.limit ?? Number.POSITIVE_INFINITY);
    await this.replayFromStream(req, firstSequenceAfter(req.after), budget, emit);
    return { more: budget.more };
  }

  /**
   * Events older than the stream holds (past EVENT_RETENTION_HOURS, or purged) come from the
   * Postgres event log, page by page, up to `before` (the smallest id a message at the
   * stream's first sequence can give). Resolves with the last id it went past.
   */
  private async replayFromLog(req: ReplayRequest, before: string, budget: Budget, emit: (event: AgentEvent) => void): Promise<string> {
    let after = req.after;
    for (;;) {
      const page = await this.rpc.call(PERSISTENCE_RPC.eventsAfter, {
        userId: req.userId,
        after,
        before,
        conversationId: req.conversationId,
        limit: LOG_PAGE,
      });
      for (const row of page.events) {
        after = row.id;
        const event = parseAgentEvent(row.id, row);
        if (!event) {
          this.logger.warn({ id: row.id }, 'skipped a logged event that is not a valid event');
          continue;
        }
        if (req.runId !== undefined && event.runId !== req.runId) continue;
        if (!budget.take()) return after;
        this.metrics.eventsReplayed.inc();
        emit(event);
      }
      if (!page.more || page.events.length === 0) return after;
    }
  }

  private async replayFromStream(req: ReplayRequest, from: number, budget: Budget, emit: (event: AgentEvent) => void): Promise<void> {
    const stream = this.subjects.streams.events;
    const filter = req.conversationId
      ? this.subjects.events(req.userId, req.conversationId, req.runId ?? '*')
      : this.subjects.eventsOfUser(req.userId);
    const info = await orUnavailable(
      () =>
        this.jsm.consumers.add(stream, {
          filter_subject: filter,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: from,
          ack_policy: AckPolicy.None,
          inactive_threshold: nanos(60_000),
          mem_storage: true,
          num_replicas: 1,
        }),
      TIMEOUTS.jetstreamApiMs,
      'create replay consumer',
    );
    try {
      // Read after the consumer exists: whatever is below the stream's first sequence now is
      // gone from the stream and comes from the event log; the stream delivers the rest.
      const { state } = await orUnavailable(() => this.jsm.streams.info(stream), TIMEOUTS.jetstreamApiMs, 'stream info');
      // Messages hold several events (and `from` is where `after`'s message may be): what the
      // stream delivers up to the last id emitted so far is skipped. Events stored before group
      // commit (id = sequence) may come from both the log and the stream: the same rule skips them.
      let emitted = req.after;
      if (from < state.first_seq) emitted = await this.replayFromLog(req, firstEventIdAt(state.first_seq), budget, emit);
      if (budget.more) return;
      // num_pending counts the matching events stored when the consumer was created.
      let remaining = info.num_pending;
      if (remaining === 0) return;
      const consumer = await orUnavailable(() => this.js.consumers.get(stream, info.name), TIMEOUTS.jetstreamApiMs, 'get consumer');
      while (remaining > 0 && !budget.more) {
        const messages = await consumer.fetch({ max_messages: Math.min(remaining, FETCH_BATCH), expires: TIMEOUTS.jetstreamApiMs });
        let received = 0;
        for await (const m of messages) {
          received++;
          remaining = m.info.pending === 0 ? 0 : remaining - 1;
          if (m.seq < state.first_seq) continue; // replayed from the event log already
          const { events, invalid } = toAgentEvents(m.seq, m.data);
          if (invalid > 0) this.logger.warn({ seq: m.seq, subject: m.subject, invalid }, 'skipped stored events that are not valid');
          for (const event of events) {
            if (!isLaterEventId(event.id, emitted)) continue;
            if (!budget.take()) break;
            this.metrics.eventsReplayed.inc();
            emitted = event.id;
            emit(event);
          }
          if (budget.more) break;
        }
        if (received === 0) break;
      }
    } finally {
      await this.jsm.consumers.delete(stream, info.name).catch(() => undefined);
    }
  }
}
