import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { runRequestSchema, type Subjects } from '@herald/contracts';
import { decodeJson, LOGGER, type Logger, NATS, SUBJECTS } from '@herald/messaging';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg, type NatsConnection, nanos } from 'nats';

import { RunSupervisor } from './run-supervisor';

/** Runs one orchestrator instance holds at most at once (waiting in a lane included). */
const MAX_RUNS_IN_FLIGHT = 512;
const ACK_WAIT_MS = 30_000;

/**
 * Takes accepted run requests from the RUNS work queue (a durable consumer shared by every
 * orchestrator instance) and hands each to the supervisor. A request is acknowledged only
 * once its run has ended with a terminal event; until then it is kept alive, and an
 * instance that dies leaves it to be redelivered to another.
 */
@Injectable()
export class RunConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private messages?: ConsumerMessages;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly supervisor: RunSupervisor,
  ) {}

  async onApplicationBootstrap() {
    const jsm = await this.nc.jetstreamManager();
    const durable = this.subjects.consumers.orchestratorRuns;
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      max_ack_pending: MAX_RUNS_IN_FLIGHT * 4,
      max_deliver: 10,
    };
    await jsm.consumers.add(this.subjects.streams.runs, config).catch(async () => {
      await jsm.consumers.update(this.subjects.streams.runs, durable, config);
    });
    const consumer = await this.nc.jetstream().consumers.get(this.subjects.streams.runs, durable);
    this.messages = await consumer.consume({ max_messages: 64, callback: (msg) => this.handle(msg) });
    this.logger.info({ stream: this.subjects.streams.runs, durable }, 'consuming run requests');
  }

  async onApplicationShutdown() {
    // Stop taking new runs; runs in flight are finished or, if the process is killed, redelivered.
    await this.messages?.close().catch(() => undefined);
    await Promise.allSettled([...this.inFlight.values()]);
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
    const done = this.supervisor
      .execute(request, msg.seq, () => msg.working())
      .then(() => msg.ack())
      .catch((err) => {
        this.logger.error({ err, runId: request.runId }, 'run will be redelivered');
        msg.nak(1000);
      })
      .finally(() => this.inFlight.delete(request.runId));
    this.inFlight.set(request.runId, done);
  }
}
