import { stepSettledNoticeSchema } from '@herald/contracts';
import { decodeJson, type JobOutcome, readJobOutcomes, type Redis } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { Queue } from 'bullmq';
import type { NatsConnection, Subscription } from 'nats';

/** How often the jobs still awaited are read from Redis, in case their notice was lost. */
export const SETTLED_CHECK_MS = 1_000;
/**
 * A job just queued is first read from Redis this long after, if it has not settled by then:
 * most steps settle sooner and never cost the read, and a job that had settled before anyone
 * waited (a redelivered run request) is still found at once.
 */
export const FIRST_CHECK_MS = 100;

type Settlement = { state: 'completed'; result: unknown } | { state: 'failed'; reason: string };

interface Waiter {
  /** Set once the job is queued: a job not queued yet is not looked for in Redis. */
  queued: boolean;
  firstCheck?: NodeJS.Timeout;
  settle(settlement: Settlement): void;
}

/** One job awaited by a step. */
export interface StepWait {
  /** Resolves with the job's return value; rejects with an Error whose message is its failed reason. */
  readonly settled: Promise<unknown>;
  /** The job is queued (or was already): reads its state FIRST_CHECK_MS later unless settled, then with every periodic check. */
  queued(): void;
  /** Stops waiting (the step is over, settled or not). */
  release(): void;
}

/**
 * Learns when BullMQ jobs have settled for good: from the workers' notices on the
 * step-settled subject (one subscription for the instance; a notice for a job nobody here
 * waits for costs a Map lookup), and from the jobs' state in Redis, read FIRST_CHECK_MS after
 * a job is queued unless it has settled by then, and every SETTLED_CHECK_MS for all the jobs
 * still awaited together (one pipelined round trip), so that a lost notice (a NATS blip, a worker killed between recording the
 * outcome and publishing it) or a job that had settled before anyone waited only delays the
 * step. This replaces BullMQ's QueueEvents, whose blocking read of the queue's whole event
 * stream cost every orchestrator a Redis command and its parsing per event of every job.
 */
export class StepSettlements {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly checkEveryMs = SETTLED_CHECK_MS,
  ) {}

  async start(): Promise<void> {
    this.subscription = this.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (!err) this.onNotice(msg.data);
      },
    });
    // The server has the subscription before the first step is queued.
    await this.nc.flush();
  }

  /**
   * At shutdown, once RunConsumer has drained the runs. A step still awaited then belongs to
   * a run handed back to the other instances (the drain timed out): it is left pending, not
   * failed, so that its run is not ended here.
   */
  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.stopChecks();
    if (this.waiters.size > 0)
      this.logger.warn({ steps: this.waiters.size }, 'stopped waiting for steps still running; their runs are handed back');
  }

  /** Call before queueing the job, so that no notice can come before the waiter is there. */
  wait(jobId: string): StepWait {
    let settle!: (settlement: Settlement) => void;
    const settled = new Promise<unknown>((resolve, reject) => {
      settle = (s) => (s.state === 'completed' ? resolve(s.result) : reject(new Error(s.reason)));
    });
    settled.catch(() => undefined); // a step that stopped waiting does not read its job's failure
    const waiter: Waiter = {
      queued: false,
      settle: (s) => {
        this.remove(jobId, waiter);
        settle(s);
      },
    };
    let set = this.waiters.get(jobId);
    if (!set) this.waiters.set(jobId, (set = new Set()));
    set.add(waiter);
    return {
      settled,
      queued: () => {
        waiter.queued = true;
        this.timer ??= setInterval(() => void this.checkAll(), this.checkEveryMs).unref();
        waiter.firstCheck = setTimeout(() => void this.check([jobId]), Math.min(FIRST_CHECK_MS, this.checkEveryMs)).unref();
      },
      release: () => this.remove(jobId, waiter),
    };
  }

  private remove(jobId: string, waiter: Waiter) {
    clearTimeout(waiter.firstCheck);
    const set = this.waiters.get(jobId);
    if (!set?.delete(waiter) || set.size > 0) return;
    this.waiters.delete(jobId);
    if (this.waiters.size === 0) this.stopChecks();
  }

  private stopChecks() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private onNotice(data: Uint8Array) {
    let raw: { jobId?: unknown };
    try {
      raw = decodeJson(data);
    } catch {
      return;
    }
    const set = typeof raw?.jobId === 'string' ? this.waiters.get(raw.jobId) : undefined;
    if (!set) return;
    const notice = stepSettledNoticeSchema.safeParse(raw);
    if (!notice.success) {
      this.logger.warn({ jobId: raw.jobId }, 'ignored a malformed step-settled notice');
      return;
    }
    for (const waiter of [...set]) waiter.settle(notice.data);
  }

  /** One periodic check at a time: a slow Redis does not pile them up. */
  private async checkAll() {
    if (this.checking) return;
    this.checking = true;
    try {
      const queued = [...this.waiters].filter(([, set]) => [...set].some((w) => w.queued)).map(([jobId]) => jobId);
      if (queued.length > 0) await this.check(queued);
    } finally {
      this.checking = false;
    }
  }

  /** Reads the jobs' outcomes from Redis (readJobOutcomes); a failure to read is left to the next check. */
  private async check(jobIds: string[]) {
    try {
      for (const [id, outcome] of await readJobOutcomes(this.queue, this.redis, jobIds)) {
        const settlement = settlementOf(id, outcome);
        if (settlement) this.settle(id, settlement);
      }
    } catch (err) {
      this.logger.warn({ err, jobs: jobIds.length }, 'could not read the state of awaited steps; trying again');
    }
  }

  private settle(jobId: string, settlement: Settlement) {
    const set = this.waiters.get(jobId);
    if (!set) return;
    for (const waiter of [...set]) if (waiter.queued) waiter.settle(settlement);
  }
}

function settlementOf(id: string, outcome: JobOutcome): Settlement | undefined {
  switch (outcome.state) {
    case 'pending':
      return undefined;
    case 'removed':
      return { state: 'failed', reason: `job ${id} was removed before it settled` };
    case 'completed':
      return { state: 'completed', result: parseReturnValue(outcome.returnvalue) };
    case 'failed':
      return { state: 'failed', reason: outcome.reason ?? `job ${id} failed` };
  }
}

/** BullMQ stores the return value as JSON; what cannot be read fails the result's validation. */
function parseReturnValue(stored: string | null): unknown {
  try {
    return stored === null ? null : JSON.parse(stored);
  } catch {
    return null;
  }
}
