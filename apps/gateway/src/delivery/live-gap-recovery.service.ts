import { type Subjects } from '@herald/contracts';
import { lastEventIdUpTo, LOGGER, NATS, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { JetStreamManager, NatsConnection } from 'nats';
import { JETSTREAM_MANAGER } from '../core/core.tokens';
import { isLaterEventId } from './event-id';
import { EventReplayService } from './event-replay.service';
import { LiveDeliveryService } from './live-delivery.service';

/**
 * Live events travel over core NATS: what was republished while this instance's connection
 * was away (a NATS restart, a cluster node lost) never reaches it. On reconnect, every
 * receiver is caught up from the stream, from the last id relayed before the disconnect,
 * with its live events held meanwhile, so the gap closes without a duplicate or a reorder.
 */
@Injectable()
export class LiveGapRecovery implements OnApplicationBootstrap {
  /** The highest id known delivered when nothing was relayed yet: the stream's end at start. */
  private baseline = 0n;
  private gapAfter?: bigint;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(JETSTREAM_MANAGER) private readonly jsm: JetStreamManager,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly delivery: LiveDeliveryService,
    private readonly replay: EventReplayService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.baseline = BigInt(lastEventIdUpTo((await this.jsm.streams.info(this.subjects.streams.events)).state.last_seq));
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'could not read the end of the EVENTS stream; a NATS reconnect replays more');
    }
    void this.watch();
  }

  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.gapAfter ??= this.watermark();
      if (status.type === 'reconnect' && this.gapAfter !== undefined) {
        const after = this.gapAfter;
        this.gapAfter = undefined;
        void this.catchUp(after);
      }
    }
  }

  private watermark(): bigint {
    const relayed = this.delivery.lastRelayedId;
    return relayed > this.baseline ? relayed : this.baseline;
  }

  private async catchUp(after: bigint): Promise<void> {
    const receivers = this.delivery.liveReceivers();
    if (receivers.length === 0) return;
    this.logger.info({ receivers: receivers.length, after: String(after) }, 'NATS reconnected: catching receivers up from the stream');
    await this.nc.flush().catch(() => undefined); // the live subscriptions are registered again
    await Promise.all(
      receivers.map(({ key, userId }) => {
        let lastId = String(after);
        return this.delivery
          .whilePaused(
            key,
            () =>
              this.replay.replay({ userId, after: String(after) }, (event) => {
                this.delivery.deliver(key, event);
                lastId = event.id;
              }),
            (event) => !isLaterEventId(event.id, lastId),
          )
          .catch((err) => this.logger.warn({ err: String(err) }, 'catching a receiver up after a NATS reconnect failed'));
      }),
    );
  }
}
