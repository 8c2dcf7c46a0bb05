import { CLIENT_EVENTS, ErrorCode, HeraldError, toErrorBody, type Ack, type ClientToServerEvents } from '@herald/contracts';
import { LOGGER } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import type { HeraldSocket } from '../common/herald-socket.types';
import { EventsResumeService } from '../delivery/events-resume.service';
import { FeedbackService } from '../feedback/feedback.service';
import { ChatService } from '../runs/chat.service';
import { RunCommandsService } from '../runs/run-commands.service';
import { splitClientArgs } from './client-args';

type ClientEventName = keyof ClientToServerEvents;
type ClientEventHandler = (socket: HeraldSocket, payload: unknown) => Promise<object>;

/** Handlers of one socket still running; beyond it a client is asked to slow down. */
export const MAX_IN_FLIGHT_PER_SOCKET = 32;

/**
 * The client → server events of PROTOCOL.md §2, each one handler. Every event is answered
 * through its callback when there is one, with `{ ok: true, … }` or `{ ok: false, error }`;
 * an event without a callback is processed all the same; nothing a client sends can throw
 * out of here or close the connection.
 */
@Injectable()
export class ClientEventHandlers {
  private readonly handlers: ReadonlyMap<ClientEventName, ClientEventHandler>;

  constructor(
    chat: ChatService,
    runs: RunCommandsService,
    resume: EventsResumeService,
    feedback: FeedbackService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.handlers = new Map<ClientEventName, ClientEventHandler>([
      [CLIENT_EVENTS.chatSend, (socket, payload) => chat.send(socket.data.userId, payload)],
      [CLIENT_EVENTS.runCancel, (socket, payload) => runs.cancel(socket.data.userId, payload)],
      [CLIENT_EVENTS.runRespond, (socket, payload) => runs.respond(socket.data.userId, payload)],
      [CLIENT_EVENTS.messageFeedback, (socket, payload) => feedback.rate(socket.data.userId, payload)],
      [CLIENT_EVENTS.eventsResume, (socket, payload) => resume.resume(socket, payload)],
    ]);
  }

  /**
   * One `onAny` listener per socket (not one per event: memory per idle connection counts),
   * which dispatches known events to their handler and answers unknown ones.
   */
  bind(socket: HeraldSocket): void {
    let inFlight = 0;
    // onAny ignores what a listener returns, and this one settles every error itself (an ack,
    // a log); wrapping it to drop the promise would cost a closure more per idle connection.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    socket.onAny(async (event: unknown, ...args: unknown[]) => {
      const handler = this.handlers.get(event as ClientEventName);
      const { payload, ack } = splitClientArgs(args);
      if (!handler) {
        ack?.({ ok: false, error: { code: ErrorCode.INVALID_INPUT, message: `Unknown event "${String(event).slice(0, 64)}".` } });
        return;
      }
      if (inFlight >= MAX_IN_FLIGHT_PER_SOCKET) {
        ack?.({ ok: false, error: { code: ErrorCode.RATE_LIMITED, message: 'Too many requests at once.', retryAfterMs: 1000 } });
        return;
      }
      inFlight++;
      let response: Ack;
      try {
        response = { ok: true, ...(await handler(socket, payload)) };
      } catch (err) {
        if (!HeraldError.is(err)) this.logger.error({ err, event }, 'client event handler failed');
        response = { ok: false, error: toErrorBody(err) };
      } finally {
        inFlight--;
      }
      ack?.(response);
    });
  }
}
