import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Config } from '@herald/config';
import { runRequestSchema, type Subjects } from '@herald/contracts';
import { CONFIG, decodeJson, DurableConsumerLoop, ensureDurableConsumer, LOGGER, NATS, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { AckPolicy, DeliverPolicy, type JetStreamManager, type JsMsg, nanos, type NatsConnection } from 'nats';

import { RunSupervisor } from './run-supervisor.service';

/** Runs one orchestrator instance holds at most at once (waiting in a lane included). */
const MAX_RUNS_IN_FLIGHT = 512;
/** Requests JetStream hands this instance ahead of the ones being started. */
const PULL_WINDOW = 64;
/** Held requests are renewed this many times per RUNS_ACK_WAIT_MS, so a slow tick never lets one lapse. */
const RENEWALS_PER_ACK_WAIT = 3;
/**
 * How long a stopping instance lets its runs finish (under Kubernetes' default 30 s grace).
 * A run still going after that is handed back: the process exits without acknowledging it,
 * and JetStream redelivers it to another instance once RUNS_ACK_WAIT_MS has passed.
 */
const DRAIN_TIMEOUT_MS = 25_000;

/**
 * Takes accepted run requests from the RUNS work queue (a durable consumer shared by every
 * orchestrator instance) and hands each to the supervisor. A request is acknowledged only
 * once its run has ended with a terminal event; until then it is kept alive, and an
 * instance that dies leaves it to be redelivered to another. A lost consumer (deleted, NATS
 * trouble) is recreated (DurableConsumerLoop).
 */
@Injectable()
export class RunConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer?: DurableConsumerLoop;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly supervisor: RunSupervisor,
  ) {}

  async onApplicationBootstrap() {
    const durable = this.subjects.consumers.orchestratorRuns;
    this.consumer = await DurableConsumerLoop.start({
      nc: this.nc,
      stream: this.subjects.streams.runs,
      durable,
      ensure: (jsm) => this.ensureConsumer(jsm),
      pullWindow: PULL_WINDOW,
      handle: async (messages) => {
        for await (const msg of messages) this.handle(msg);
      },
      name: 'run request',
      logger: this.logger,
    });
    this.logger.info({ stream: this.subjects.streams.runs, durable }, 'consuming run requests');
  }

  private ensureConsumer(jsm: JetStreamManager): Promise<void> {
    return ensureDurableConsumer(
      jsm,
      this.subjects.streams.runs,
      { durable_name: this.subjects.consumers.orchestratorRuns, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All },
      { ack_wait: nanos(this.config.RUNS_ACK_WAIT_MS), max_ack_pending: MAX_RUNS_IN_FLIGHT * 4, max_deliver: 10 },
    );
  }

  /**
   * Stops taking new runs and lets the ones in flight finish, before anything they use (NATS,
   * Redis, the step queue) closes in the application shutdown that follows.
   */
  async onModuleDestroy() {
    await this.consumer?.stop();
    if (this.inFlight.size === 0) return;
    this.logger.info({ runs: this.inFlight.size }, 'letting the runs in flight finish before stopping');
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled([...this.inFlight.values()]).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!drained) this.logger.warn({ runs: this.inFlight.size }, 'runs still in flight are handed back to the other instances');
  }

  private handle(msg: JsMsg) {
    let request;
    try {
      request = runRequestSchema.parse(decodeJson(msg.data));
    } catch (err) {
      this.logger.error({ err, seq: msg.seq }, 'malformed run request dropped');
      msg.term();
      return;
    }
    if (this.inFlight.has(request.runId)) {
      msg.working(); // a redelivery of a run this instance is already driving
      return;
    }
    // Renewed here, at the pace of the configured ack wait: if this process dies, the request
    // is redelivered to another instance within RUNS_ACK_WAIT_MS.
    const renew = setInterval(() => msg.working(), Math.max(250, Math.floor(this.config.RUNS_ACK_WAIT_MS / RENEWALS_PER_ACK_WAIT)));
    const done = this.supervisor
      .execute(request, msg.seq, () => msg.working(), msg.info.redeliveryCount > 1)
      .then(() => msg.ack())
      .catch((err) => {
        this.logger.error({ err, runId: request.runId }, 'run will be redelivered');
        msg.nak(1000);
      })
      .finally(() => {
        clearInterval(renew);
        this.inFlight.delete(request.runId);
      });
    this.inFlight.set(request.runId, done);
  }
}
