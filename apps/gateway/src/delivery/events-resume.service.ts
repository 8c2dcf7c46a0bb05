import { eventsResumeSchema, parseInput, SERVER_EVENTS, type EventsResumeResult } from '@herald/contracts';
import { Injectable } from '@nestjs/common';
import type { HeraldSocket } from '../common/herald-socket.types';
import { isLaterEventId } from './event-id';
import { EventReplayService } from './event-replay.service';
import { LiveDeliveryService } from './live-delivery.service';

/**
 * `events:resume`: replays the user's stored events after `after` to this one socket, holding
 * its live events back meanwhile, then delivers the held ones the replay did not cover, so
 * the client sees no gap and no reordering.
 */
@Injectable()
export class EventsResumeService {
  constructor(
    private readonly delivery: LiveDeliveryService,
    private readonly replay: EventReplayService,
  ) {}

  async resume(socket: HeraldSocket, payload: unknown): Promise<EventsResumeResult> {
    const { after, conversationId } = parseInput(eventsResumeSchema, payload);
    let lastId = after;
    let replayed = 0;
    await this.delivery.whilePaused(
      socket.id,
      () =>
        this.replay.replay({ userId: socket.data.userId, after, conversationId }, (event) => {
          socket.emit(SERVER_EVENTS.agentEvent, event);
          lastId = event.id;
          replayed++;
        }),
      // A held event was covered if it is in the replayed scope and not after the last replayed id.
      (event) => (conversationId === undefined || event.conversationId === conversationId) && !isLaterEventId(event.id, lastId),
    );
    return { replayed, lastId };
  }
}
