import { type AgentEvent, eventsResumeSchema, parseInput, SERVER_EVENTS, type EventsResumeResult } from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG } from '@herald/messaging';
import { Inject, Injectable } from '@nestjs/common';
import type { HeraldSocket } from '../common/herald-socket.types';
import { ReplayLimiter } from '../limits/replay-limiter.service';
import { isLaterEventId } from './event-id';
import { EventReplayService } from './event-replay.service';
import { LiveDeliveryService } from './live-delivery.service';

/**
 * `events:resume`: replays the user's stored events after `after` to this one socket, holding
 * its live events back meanwhile, then delivers the held ones the replay did not cover, so
 * the client sees no gap and no reordering.
 *
 * One call replays at most REPLAY_MAX_EVENTS and says `more` when it stopped there: the
 * socket then gets no live event of the replayed scope until its next `events:resume` (which
 * replays them, in order), while events outside that scope keep coming live. Each replay
 * holds one of the user's replay slots (MAX_CONCURRENT_REPLAYS_PER_USER).
 */
@Injectable()
export class EventsResumeService {
  constructor(
    private readonly delivery: LiveDeliveryService,
    private readonly replay: EventReplayService,
    private readonly replays: ReplayLimiter,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async resume(socket: HeraldSocket, payload: unknown): Promise<EventsResumeResult> {
    const { after, conversationId } = parseInput(eventsResumeSchema, payload);
    const { userId } = socket.data;
    const inScope = (event: AgentEvent) => conversationId === undefined || event.conversationId === conversationId;
    let lastId = after;
    let replayed = 0;
    let more = false;
    await this.delivery.whilePaused(
      socket.id,
      () =>
        this.replays.run(userId, async () => {
          const result = await this.replay.replay({ userId, after, conversationId, limit: this.config.REPLAY_MAX_EVENTS }, (event) => {
            socket.emit(SERVER_EVENTS.agentEvent, event);
            lastId = event.id;
            replayed++;
          });
          more = result.more;
        }),
      // A held event was covered if it is in the replayed scope and not after the last replayed id.
      (event) => inScope(event) && !isLaterEventId(event.id, lastId),
      // Cut short: the next call replays the rest of the scope, live events of it included.
      () => (more ? inScope : undefined),
    );
    return { replayed, lastId, more };
  }
}
