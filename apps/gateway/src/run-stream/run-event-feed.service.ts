import { type AgentEvent, HeraldError, HTTP_STATUS, type Subjects } from '@herald/contracts';
import { lastEventIdUpTo, LOGGER, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { JetStreamManager } from 'nats';
import { Deadlines } from '../common/deadlines';
import { JETSTREAM_MANAGER } from '../core/core.tokens';
import { TIMEOUTS } from '../core/timeouts';
import { orUnavailable } from '../core/or-unavailable';
import { isLaterEventId } from '../delivery/event-id';
import { EventReplayService } from '../delivery/event-replay.service';
import { LiveDeliveryService } from '../delivery/live-delivery.service';
import { sendHttpError } from '../http/http-error.filter';
import { ConnectionLimiter } from '../limits/connection-limiter.service';
import type { Lease } from '../limits/lease-pool';
import { ReplayLimiter } from '../limits/replay-limiter.service';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import type { SseResponse } from './sse-response';

/** The run a protocol stream follows, and where its events begin. */
export interface FollowedRun {
  userId: string;
  runId: string;
  conversationId: string;
  /** An event id at or before the run's first event ("0" when unknown): the replay starts after it. */
  startAfter: string;
}

export interface StreamUser {
  userId: string;
  /** When the token expires (epoch ms): the stream ends then. */
  expiresAt: number;
}

/** Takes one event of the run, in id order, once; returns true when the stream is complete. */
export type RunEventSink = (event: AgentEvent) => boolean;

/**
 * What the protocol adapters (AG-UI, the AI SDK's UI message stream) stand on: the events of
 * one run, in id order, each once, from its start (replayed from the EVENTS stream and the
 * event log) and then live, on any gateway, until the adapter says its stream is complete.
 * The same delivery as `GET /v1/events` (live events held while the replay runs, so there is no
 * gap and no reordering), narrowed to one run; the stream takes one of the user's connection
 * slots and, while it replays, one of their replay slots; it ends when the token expires.
 */
@Injectable()
export class RunEventFeed implements OnModuleDestroy {
  private readonly open = new Set<SseResponse>();
  private readonly expiries = new Deadlines<SseResponse>((sse) => sse.close());

  constructor(
    private readonly delivery: LiveDeliveryService,
    private readonly replay: EventReplayService,
    private readonly connections: ConnectionLimiter,
    private readonly replays: ReplayLimiter,
    private readonly metrics: GatewayMetrics,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The EVENTS stream's last id now: every event of a run accepted after this call is later.
   * Read before accepting a run, it is where that run's replay can start.
   */
  async lastEventId(): Promise<string> {
    const { state } = await orUnavailable(
      () => this.jsm.streams.info(this.subjects.streams.events),
      TIMEOUTS.jetstreamApiMs,
      'stream info',
    );
    return lastEventIdUpTo(state.last_seq);
  }

  /**
   * Takes one of the user's connection slots for a stream about to open, or throws
   * TOO_MANY_CONNECTIONS: taken before a run is admitted, so a refused stream starts nothing.
   */
  reserve(userId: string): Promise<Lease> {
    return this.connections.admit(userId);
  }

  /** Gives back a slot that no stream took (idempotent). */
  release(slot: Lease): void {
    this.connections.release(slot);
  }

  /**
   * Feeds the run's events to `sink` over `sse` until the sink says it is complete (then the
   * response ends), the client goes away, or the token expires. Refusals that come before the
   * response opens (TOO_MANY_CONNECTIONS, no replay slot in time) are answered as HTTP errors.
   * `reserved`: the slot reserve() took for this stream (else one is taken now).
   */
  async follow(user: StreamUser, run: FollowedRun, sse: SseResponse, sink: RunEventSink, reserved?: Lease): Promise<void> {
    const key = `run-stream:${randomUUID()}`;
    const slot = reserved ?? (await this.connections.admit(user.userId));
    sse.onClose(() => this.connections.release(slot));
    if (sse.isClosed) return;
    this.open.add(sse);
    this.metrics.sseStreams.inc();
    sse.onClose(() => {
      this.open.delete(sse);
      this.expiries.delete(sse);
      this.delivery.detach(key);
      this.metrics.sseStreams.dec();
    });
    this.expiries.add(sse, user.expiresAt);

    let lastId = run.startAfter;
    const take = (event: AgentEvent) => {
      if (sse.isClosed || event.runId !== run.runId || !isLaterEventId(event.id, lastId)) return;
      lastId = event.id;
      try {
        if (sink(event)) sse.close();
      } catch (err) {
        this.logger.error({ err, runId: run.runId, eventId: event.id }, 'a protocol stream could not map an event; closing it');
        sse.close();
      }
    };
    void this.delivery.attachWriter(key, run.userId, take, () => sse.close());
    try {
      await this.delivery.whilePaused(
        key,
        () =>
          this.replays.run(run.userId, async () => {
            sse.open();
            await this.replay.replay(
              { userId: run.userId, after: run.startAfter, conversationId: run.conversationId, runId: run.runId },
              take,
            );
          }),
        (event) => !isLaterEventId(event.id, lastId),
      );
    } catch (err) {
      if (!sse.isOpened && HeraldError.is(err)) {
        sendHttpError(sse.response, HTTP_STATUS[err.code], err.toBody());
      } else if (!sse.isClosed) {
        // The client resumes from its last frame and gets the rest then.
        this.logger.warn({ err: String(err), runId: run.runId }, 'protocol stream replay failed; closing the stream');
      }
      sse.close();
    }
  }

  /**
   * The run's events from its start up to now (a replay, nothing live): what an adapter reads
   * to check a request against the run (e.g. which questions it asked).
   */
  async eventsSoFar(run: FollowedRun): Promise<AgentEvent[]> {
    const events: AgentEvent[] = [];
    await this.replays.run(run.userId, () =>
      this.replay.replay({ userId: run.userId, after: run.startAfter, conversationId: run.conversationId, runId: run.runId }, (event) => {
        if (event.runId === run.runId) events.push(event);
      }),
    );
    return events;
  }

  /** Shutting down: end every stream so that clients resume elsewhere. */
  onModuleDestroy(): void {
    for (const sse of [...this.open]) sse.close();
  }
}
