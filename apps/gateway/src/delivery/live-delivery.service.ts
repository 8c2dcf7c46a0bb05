import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, HeraldError, SERVER_EVENTS, type AgentEvent, type Subjects, userToken } from '@herald/contracts';
import { LOGGER, NATS, streamSequenceOf, SUBJECTS, withTimeout } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { HeraldServer, HeraldSocket } from '../common/herald-socket.types';
import { TIMEOUTS } from '../core/timeouts';
import { GatewayMetrics } from '../metrics/gateway-metrics.service';
import { toAgentEvents } from './agent-event.codec';

/** Live events held back for one paused receiver before it is told to reconnect instead. */
const MAX_HELD_EVENTS = 10_000;
const RETRY_FLUSH_MS = 500;
/** Shared by every receiver that has no replay running (one promise, not one per connection). */
const SETTLED: Promise<unknown> = Promise.resolve();

/** One local room per user: everything this instance delivers addresses a user, never a socket. */
function userRoom(userId: string): string {
  return `user:${userToken(userId)}`;
}

/** Something that receives one user's events: a socket (through the user's room) or an SSE stream. */
interface Receiver {
  key: string;
  userId: string;
  socket?: HeraldSocket;
  write?: (event: AgentEvent) => void;
  /** Ends a stream's connection (it reconnects and resumes); a socket's is closed directly. */
  drop?: () => void;
  /** Resolves true once the user's subscription is registered, false if the receiver left first. */
  attached: Promise<boolean>;
  registered: boolean;
  /** Getting live events: in the room (sockets) or written directly (streams). */
  live: boolean;
  /** Replays running or queued; while above 0, live events are held. */
  pauses: number;
  held: AgentEvent[];
  /** For the current paused window: which held events a replay already delivered. */
  covered: Array<(event: AgentEvent) => boolean>;
  /**
   * After a replay cut short (`events:resume` with `more`): the live events withheld until
   * the receiver's next replay, which delivers them; the others are delivered as they come.
   */
  withheld?: (event: AgentEvent) => boolean;
  /** What the last deciding replay of the current paused window asked to withhold (undefined: nothing). */
  nextWithheld?: (event: AgentEvent) => boolean;
  /** Whether a replay of the current paused window decided what stays withheld. */
  decided: boolean;
  /** Replays of one receiver run one after the other. */
  exclusive: Promise<unknown>;
}

interface UserDelivery {
  userId: string;
  room: string;
  subscription: Subscription;
  /** Resolves once the NATS server has registered the subscription. */
  registered: Promise<void>;
  receivers: Map<string, Receiver>;
}

/**
 * Live delivery of events to the users connected to this instance. One core NATS
 * subscription per connected user (to the stream's republished `live` subjects, which carry
 * the stream sequence in `Nats-Sequence`: the ids of the message's events, event-batch.ts), shared by that user's sockets through one local room
 * and by their SSE streams, and dropped with the user's last receiver.
 *
 * A receiver can be paused while a replay runs: from the moment the replay is asked for,
 * its live events are held; afterwards the held events the replay did not cover are
 * delivered and live delivery resumes, so the receiver sees no gap and no reordering.
 */
@Injectable()
export class LiveDeliveryService implements OnApplicationShutdown {
  private server: HeraldServer | undefined;
  private readonly users = new Map<string, UserDelivery>();
  private readonly receivers = new Map<string, Receiver>();
  /** The highest event id this instance has relayed live. */
  private relayedUpTo = 0n;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  bindServer(server: HeraldServer): void {
    this.server = server;
  }

  /**
   * Joins the socket to its user's delivery. Resolves true once the user's subscription is
   * registered on the NATS server and the socket is in the room (unless a replay holds it):
   * from then on every event of the user reaches it. False if the socket left meanwhile.
   */
  attach(socket: HeraldSocket): Promise<boolean> {
    return this.add({ key: socket.id, userId: socket.data.userId, socket });
  }

  /** Like attach, for a receiver that writes events itself (an SSE stream). */
  attachWriter(key: string, userId: string, write: (event: AgentEvent) => void, drop: () => void): Promise<boolean> {
    return this.add({ key, userId, write, drop });
  }

  /** Removes a receiver; the user's subscription goes with their last receiver on this instance. */
  detach(key: string): void {
    const receiver = this.receivers.get(key);
    if (!receiver) return;
    this.receivers.delete(key);
    const user = this.users.get(receiver.userId);
    if (!user) return;
    user.receivers.delete(key);
    if (user.receivers.size === 0) this.unsubscribe(user);
  }

  /**
   * Holds the receiver's live events from now on, runs `replay` once the user's subscription
   * is registered (after earlier replays of this receiver), then delivers the held events
   * for which `covered` is false and resumes live delivery.
   *
   * `withhold` is asked once the replay has ended. A replay that was cut short (more to
   * come) returns which live events its continuation will replay: those are neither
   * delivered from the held ones nor live until the receiver's next replay, while the others
   * keep coming (outside the room). Returning undefined ends that: the receiver goes live.
   * A replay without `withhold` (catching up after a NATS reconnect) leaves it as it was.
   */
  whilePaused<T>(
    key: string,
    replay: () => Promise<T>,
    covered: (event: AgentEvent) => boolean,
    withhold?: () => ((event: AgentEvent) => boolean) | undefined,
  ): Promise<T> {
    const receiver = this.receivers.get(key);
    if (!receiver) return Promise.reject(new HeraldError(ErrorCode.UNAVAILABLE, 'This connection is closing.'));
    this.pause(receiver);
    const run = receiver.exclusive
      .then(async () => {
        if (!(await receiver.attached)) throw new HeraldError(ErrorCode.UNAVAILABLE, 'This connection is closing.');
        return replay();
      })
      .finally(() => {
        if (withhold) receiver.nextWithheld = withhold();
        this.release(receiver, covered, withhold !== undefined);
      });
    receiver.exclusive = run.catch(() => undefined);
    return run;
  }

  /** The highest event id relayed live so far (0 before the first). */
  get lastRelayedId(): bigint {
    return this.relayedUpTo;
  }

  /** The receivers whose live delivery is in place: who may have missed events while NATS was away. */
  liveReceivers(): Array<{ key: string; userId: string }> {
    return [...this.receivers.values()].filter((r) => r.registered).map(({ key, userId }) => ({ key, userId }));
  }

  /** Delivers one event to one receiver, outside its user's room (a replay to it), unless it is withheld. */
  deliver(key: string, event: AgentEvent): void {
    const receiver = this.receivers.get(key);
    if (receiver && !receiver.withheld?.(event)) this.deliverTo(receiver, event);
  }

  onApplicationShutdown(): void {
    for (const user of [...this.users.values()]) this.unsubscribe(user);
    this.receivers.clear();
  }

  private add(init: Pick<Receiver, 'key' | 'userId' | 'socket' | 'write' | 'drop'>): Promise<boolean> {
    const user = this.users.get(init.userId) ?? this.subscribe(init.userId);
    const receiver: Receiver = {
      ...init,
      attached: Promise.resolve(false),
      registered: false,
      live: false,
      pauses: 0,
      held: [],
      covered: [],
      decided: false,
      exclusive: SETTLED,
    };
    receiver.attached = user.registered.then(() => {
      if (this.receivers.get(receiver.key) !== receiver || (receiver.socket && !receiver.socket.connected)) return false;
      receiver.registered = true;
      if (receiver.pauses === 0) this.goLive(receiver);
      return true;
    });
    user.receivers.set(receiver.key, receiver);
    this.receivers.set(receiver.key, receiver);
    return receiver.attached;
  }

  private subscribe(userId: string): UserDelivery {
    const subscription = this.nc.subscribe(this.subjects.liveOfUser(userId), {
      callback: (err, msg) => {
        if (err) this.logger.warn({ err: err.message }, 'live subscription error');
        else this.relay(user, msg);
      },
    });
    const user: UserDelivery = { userId, room: userRoom(userId), subscription, registered: Promise.resolve(), receivers: new Map() };
    user.registered = this.untilRegistered(user);
    this.users.set(userId, user);
    this.metrics.subscribedUsers.set(this.users.size);
    return user;
  }

  /** A flush round trip proves the server has the subscription; NATS being away only delays it. */
  private async untilRegistered(user: UserDelivery): Promise<void> {
    for (;;) {
      try {
        await withTimeout(this.nc.flush(), TIMEOUTS.natsFlushMs, 'nats flush');
        return;
      } catch (err) {
        if (this.users.get(user.userId) !== user) return;
        this.logger.warn({ err: String(err) }, 'waiting for NATS to register a live subscription');
        await sleep(RETRY_FLUSH_MS);
      }
    }
  }

  private unsubscribe(user: UserDelivery): void {
    if (this.users.get(user.userId) === user) this.users.delete(user.userId);
    this.metrics.subscribedUsers.set(this.users.size);
    try {
      user.subscription.unsubscribe();
    } catch {
      // The connection is already closed: nothing left to unsubscribe from.
    }
  }

  private relay(user: UserDelivery, msg: Msg): void {
    const { events, invalid } = toAgentEvents(streamSequenceOf(msg), msg.data);
    if (invalid > 0)
      this.logger.warn({ subject: msg.subject, invalid }, 'dropped a live message (or events of it) that is not a valid event');
    for (const event of events) this.relayEvent(user, event);
  }

  private relayEvent(user: UserDelivery, event: AgentEvent): void {
    this.metrics.eventsRelayed.inc({ type: event.type });
    this.metrics.relayLatency.observe(Math.max(0, Date.now() - Date.parse(event.ts)) / 1000);
    if (BigInt(event.id) > this.relayedUpTo) this.relayedUpTo = BigInt(event.id);
    this.server?.local.to(user.room).emit(SERVER_EVENTS.agentEvent, event);
    for (const receiver of user.receivers.values()) {
      if (receiver.pauses > 0) this.hold(receiver, event);
      else if (receiver.withheld) {
        // Out of the room until its next replay: only what that replay will not cover.
        if (!receiver.withheld(event)) this.deliverTo(receiver, event);
      } else if (receiver.live && receiver.write) receiver.write(event);
    }
  }

  private goLive(receiver: Receiver): void {
    receiver.live = true;
    // join/leave are synchronous with the in-memory adapter; an asynchronous one would return a promise we need not wait for.
    void receiver.socket?.join(userRoom(receiver.userId));
  }

  private pause(receiver: Receiver): void {
    if (receiver.pauses++ > 0) return;
    receiver.live = false;
    void receiver.socket?.leave(userRoom(receiver.userId));
  }

  private hold(receiver: Receiver, event: AgentEvent): void {
    if (receiver.held.length < MAX_HELD_EVENTS) {
      receiver.held.push(event);
      return;
    }
    // The client fell too far behind: it reconnects and resumes from its last id.
    this.logger.warn({ receiver: receiver.key }, 'too many live events held during a replay; closing the connection');
    receiver.held = [];
    this.detach(receiver.key);
    if (receiver.socket) receiver.socket.conn.close();
    else receiver.drop?.();
  }

  /** `decides`: this replay says what stays withheld (else an earlier replay's say stands). */
  private release(receiver: Receiver, covered: (event: AgentEvent) => boolean, decides: boolean): void {
    receiver.covered.push(covered);
    if (decides) receiver.decided = true;
    if (--receiver.pauses > 0) return;
    const held = receiver.held;
    const coveredBy = receiver.covered;
    receiver.held = [];
    receiver.covered = [];
    if (receiver.decided) receiver.withheld = receiver.nextWithheld;
    receiver.decided = false;
    receiver.nextWithheld = undefined;
    if (this.receivers.get(receiver.key) !== receiver) return;
    const withheld = receiver.withheld;
    for (const event of held) {
      if (!coveredBy.some((isCovered) => isCovered(event)) && !withheld?.(event)) this.deliverTo(receiver, event);
    }
    if (receiver.registered && !withheld) this.goLive(receiver);
  }

  private deliverTo(receiver: Receiver, event: AgentEvent): void {
    if (receiver.socket) receiver.socket.emit(SERVER_EVENTS.agentEvent, event);
    else receiver.write?.(event);
  }
}
