import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type ConversationReleasedNotice, conversationReleasedNoticeSchema, type Subjects } from '@herald/contracts';
import { decodeJson, encodeJson, NATS, REDIS, type Redis, SUBJECTS, subscribeJson } from '@herald/messaging';
import type { JetStreamManager, NatsConnection, SeqMsgRequest, Subscription } from 'nats';

/** How long an active run holds its conversation without a heartbeat (a crashed holder frees it). */
const LANE_LEASE_MS = 30_000;
const POLL_MS = 500;
/** How long a run that left its lane is remembered as gone (as long as RUNS keeps a request). */
const LEFT_TTL_MS = 24 * 3600 * 1000;
/** At most this many earlier requests of one conversation are looked at (a lane is short). */
const MAX_EARLIER = 64;

// Starts `run` if it is its conversation's turn: nothing active, first in the queue, and every
// earlier request in the lane (waiting or active) or gone from it: one that has not joined yet
// goes first. The earlier requests' run ids are ARGV[from..], their "left" keys KEYS[from..].
// TRY_START and JOIN_AND_TRY_START both include it, so the rule is written once.
const TRY_START_FN = `
local function try_start(queue, active_key, run, lease, from)
  local active = redis.call('GET', active_key)
  if active == run then return 1 end
  if active then return 0 end
  local first = redis.call('ZRANGE', queue, 0, 0)
  if first[1] ~= run then return 0 end
  for i = from, #ARGV do
    if not redis.call('ZSCORE', queue, ARGV[i]) and redis.call('EXISTS', KEYS[i]) == 0 then return 0 end
  end
  redis.call('SET', active_key, run, 'PX', lease)
  redis.call('ZREM', queue, run)
  return 1
end`;

// KEYS[1] queue zset, KEYS[2] active key, KEYS[3..] the earlier requests' "left" keys;
// ARGV[1] runId, ARGV[2] lease ms, ARGV[3..] the earlier requests' run ids.
const TRY_START = `${TRY_START_FN}
return try_start(KEYS[1], KEYS[2], ARGV[1], ARGV[2], 3)`;

// Join and first start attempt in one round trip. KEYS[1] queue zset, KEYS[2] active key,
// KEYS[3] the run's cancel flag, KEYS[4..] the earlier requests' "left" keys; ARGV[1] runId,
// ARGV[2] lease ms, ARGV[3] queue score, ARGV[4..] the earlier requests' run ids.
// -1: cancelled (and not joined), 1: started, 0: waiting in the lane.
const JOIN_AND_TRY_START = `${TRY_START_FN}
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[1])
return try_start(KEYS[1], KEYS[2], ARGV[1], ARGV[2], 4)`;

// KEYS[1] the run's "left" key, KEYS[2] queue zset, KEYS[3] active key; ARGV[1] runId,
// ARGV[2] left TTL ms. 1 when the run was the active one and released the conversation.
// The run is marked left because its request stays in the RUNS stream until acknowledged and
// must not hold back the next run; one script, so leaving is one round trip.
const LEAVE = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
  return 1
end
return 0`;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** What joining a lane came to. */
export type JoinOutcome = 'started' | 'waiting' | 'cancelled';

/**
 * One lane per conversation, in Redis so every orchestrator instance shares it: at most one
 * active run per conversation, the others wait in admission order (the RUNS stream
 * sequence). This is how `onBusy: enqueue` and `interrupt` hold across instances.
 *
 * Two requests accepted nearly at once may reach two instances in either order, so a run
 * also waits for every earlier request of its conversation still in the RUNS stream (on the
 * conversation's subject) to have joined the lane: the later one never starts first.
 */
@Injectable()
export class ConversationLanes implements OnModuleInit, OnApplicationShutdown {
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscription?: Subscription;
  private jsm?: Promise<JetStreamManager>;
  /** The admission order (RUNS stream sequence) of the runs of this instance that joined a lane. */
  private readonly orders = new Map<string, number>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
  ) {}

  onModuleInit() {
    this.subscription = subscribeJson(this.nc, this.subjects.conversationReleased, conversationReleasedNoticeSchema, ({ conversationId }) =>
      this.waiters.get(conversationId)?.forEach((wake) => wake()),
    );
  }

  /** After the runs in flight have finished (RunConsumer drains them in onModuleDestroy). */
  onApplicationShutdown() {
    this.subscription?.unsubscribe();
  }

  /**
   * Joins the lane and starts the run if it is its conversation's turn, in one round trip;
   * `priority` runs (interrupts) go before everything already waiting. A run whose cancel
   * flag is set does not join: 'cancelled'.
   */
  async joinAndTryStart(conversationId: string, runId: string, order: number, priority = false): Promise<JoinOutcome> {
    this.orders.set(runId, order);
    const earlier = await this.earlierRequests(conversationId, order);
    const outcome = await this.redis.eval(
      JOIN_AND_TRY_START,
      3 + earlier.length,
      this.subjects.keys.conversationQueue(conversationId),
      this.subjects.keys.conversationActive(conversationId),
      this.subjects.keys.runCancelled(runId),
      ...earlier.map((id) => this.subjects.keys.runLeft(id)),
      runId,
      LANE_LEASE_MS,
      priority ? -order : order,
      ...earlier,
    );
    return outcome === 1 ? 'started' : outcome === -1 ? 'cancelled' : 'waiting';
  }

  /** Starts the run (one that joined) if it is its conversation's turn. */
  async tryStart(conversationId: string, runId: string): Promise<boolean> {
    const order = this.orders.get(runId);
    if (order === undefined) throw new Error(`run ${runId} tried to start without joining its lane`);
    const earlier = await this.earlierRequests(conversationId, order);
    const started = await this.redis.eval(
      TRY_START,
      2 + earlier.length,
      this.subjects.keys.conversationQueue(conversationId),
      this.subjects.keys.conversationActive(conversationId),
      ...earlier.map((id) => this.subjects.keys.runLeft(id)),
      runId,
      LANE_LEASE_MS,
      ...earlier,
    );
    return started === 1;
  }

  /** 1 for the next run to start, 2 for the one after it, … */
  async position(conversationId: string, runId: string): Promise<number> {
    const rank = await this.redis.zrank(this.subjects.keys.conversationQueue(conversationId), runId);
    return (rank ?? 0) + 1;
  }

  activeRun(conversationId: string): Promise<string | null> {
    return this.redis.get(this.subjects.keys.conversationActive(conversationId));
  }

  /** Waits until this run holds the lane; rejects when the signal aborts. */
  async waitTurn(conversationId: string, runId: string, signal: AbortSignal): Promise<void> {
    while (!(await this.tryStart(conversationId, runId))) {
      signal.throwIfAborted();
      await this.nextRelease(conversationId, signal);
    }
  }

  async renew(conversationId: string, runId: string): Promise<void> {
    await this.redis.eval(RENEW, 1, this.subjects.keys.conversationActive(conversationId), runId, LANE_LEASE_MS);
  }

  /** Leaves the lane, whether the run was waiting or active, and wakes the next one. */
  async leave(conversationId: string, runId: string): Promise<void> {
    this.orders.delete(runId);
    const released = await this.redis.eval(
      LEAVE,
      3,
      this.subjects.keys.runLeft(runId),
      this.subjects.keys.conversationQueue(conversationId),
      this.subjects.keys.conversationActive(conversationId),
      runId,
      LEFT_TTL_MS,
    );
    if (released === 1) {
      const notice: ConversationReleasedNotice = { conversationId };
      this.nc.publish(this.subjects.conversationReleased, encodeJson(notice));
    }
  }

  /** The run ids of the conversation's requests still in the RUNS stream with a sequence below `order`. */
  private async earlierRequests(conversationId: string, order: number): Promise<string[]> {
    this.jsm ??= this.nc.jetstreamManager();
    const jsm = await this.jsm;
    const subject = this.subjects.runRequestOf(conversationId);
    const runIds: string[] = [];
    for (let seq = 1; seq < order && runIds.length < MAX_EARLIER;) {
      // STREAM.MSG.GET's next_by_subj (the first on the subject at or after seq), which nats.js types only for direct gets.
      const query: SeqMsgRequest = Object.assign({ seq }, { next_by_subj: subject });
      let msg;
      try {
        msg = await jsm.streams.getMessage(this.subjects.streams.runs, query);
      } catch (err) {
        if ((err as { code?: string }).code === '404') break; // none left
        throw err;
      }
      if (msg.seq >= order) break;
      runIds.push(decodeJson<{ runId: string }>(msg.data).runId);
      seq = msg.seq + 1;
    }
    return runIds;
  }

  private nextRelease(conversationId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(conversationId) ?? new Set();
      this.waiters.set(conversationId, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(conversationId);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}
