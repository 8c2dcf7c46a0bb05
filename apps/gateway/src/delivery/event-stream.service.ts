import { HeraldError, HTTP_STATUS } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG, LOGGER } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { Deadlines } from '../common/deadlines';
import { sendHttpError } from '../http/http-error.filter';
import { ConnectionLimiter } from '../limits/connection-limiter.service';
import { ReplayLimiter } from '../limits/replay-limiter.service';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import { isLaterEventId } from './event-id';
import { EventReplayService } from './event-replay.service';
import { LiveDeliveryService } from './live-delivery.service';
import { SseStream } from './sse-stream';

export interface StreamUser {
  userId: string;
  expiresAt: number;
}

/**
 * `GET /v1/events`: the user's events as Server-Sent Events. With a cursor (Last-Event-ID or
 * `after`) it replays what came after it, holding live events meanwhile, then goes live;
 * without one it is live from now. The stream ends when the token expires.
 *
 * A stream takes one of the user's connection slots (MAX_CONNECTIONS_PER_USER, shared with
 * Socket.IO) before anything is sent, 429 TOO_MANY_CONNECTIONS when none is left; its
 * replay, one of the user's replay slots (429 RATE_LIMITED when none frees in time). Replays
 * of a stream are never cut (REPLAY_MAX_EVENTS is for `events:resume`).
 */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly streams = new Map<string, SseStream>();
  /** A stream ends when its token expires. */
  private readonly expiries = new Deadlines<SseStream>((stream) => stream.close());

  constructor(
    private readonly delivery: LiveDeliveryService,
    private readonly replay: EventReplayService,
    private readonly connections: ConnectionLimiter,
    private readonly replays: ReplayLimiter,
    private readonly metrics: GatewayMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async open(user: StreamUser, after: string | undefined, res: Response): Promise<void> {
    const key = `sse:${randomUUID()}`;
    const stream = new SseStream(res, this.config.SSE_HEARTBEAT_MS);
    // Throws TOO_MANY_CONNECTIONS (429) before anything is written; a client that went away
    // meanwhile gives its slot back at once.
    const slot = await this.connections.admit(user.userId);
    // At once when the client has gone already.
    stream.onClose(() => this.connections.release(slot));
    if (stream.isClosed) return;
    this.streams.set(key, stream);
    this.metrics.sseStreams.inc();
    stream.onClose(() => {
      this.streams.delete(key);
      this.expiries.delete(stream);
      this.delivery.detach(key);
      this.metrics.sseStreams.dec();
    });

    this.expiries.add(stream, user.expiresAt);
    const attached = this.delivery.attachWriter(
      key,
      user.userId,
      (event) => stream.sendEvent(event),
      () => stream.close(),
    );
    if (after === undefined) {
      // The opening comment tells the client its live delivery is in place.
      if (await attached) stream.open();
      return;
    }
    let lastId = after;
    try {
      await this.delivery.whilePaused(
        key,
        () =>
          this.replays.run(user.userId, () => {
            stream.open();
            return this.replay.replay({ userId: user.userId, after }, (event) => {
              stream.sendEvent(event);
              lastId = event.id;
            });
          }),
        (event) => !isLaterEventId(event.id, lastId),
      );
    } catch (err) {
      if (!stream.isOpened && !res.headersSent && HeraldError.is(err)) {
        // Refused before it began (no replay slot in time): an HTTP error the client can read.
        sendHttpError(res, HTTP_STATUS[err.code], err.toBody());
      } else {
        // The client reconnects with Last-Event-ID and gets the rest then.
        this.logger.warn({ err: String(err) }, 'SSE replay failed; closing the stream');
      }
      stream.close();
    }
  }

  /** Shutting down: end every stream so that clients reconnect (to another instance). */
  onModuleDestroy(): void {
    for (const stream of [...this.streams.values()]) stream.close();
  }
}
