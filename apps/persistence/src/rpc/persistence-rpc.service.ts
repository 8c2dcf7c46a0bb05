import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PERSISTENCE_RPC, type PersistenceRpc, type Subjects } from '@herald/contracts';
import { LOGGER, NATS, type RpcHandler, serveRpc, SUBJECTS } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import type { NatsConnection, Subscription } from 'nats';
import { DataSource } from 'typeorm';
import { ConversationQueries } from '../conversations/conversation-queries.service';
import { EventLogQueries } from '../event-log/event-log-queries.service';
import { FeedbackService } from '../feedback/feedback.service';
import { DatabaseMetrics } from '../infrastructure/database-metrics.service';
import { KnowledgeIngest } from '../knowledge/knowledge-ingest.service';
import { RunAdmission } from '../runs/run-admission.service';
import { RunQueries } from '../runs/run-queries.service';
import { UsageQueries } from '../usage/usage-queries.service';
import { guardRpc } from './rpc-guard';

/** Every operation's handler, typed by the contract (libs/contracts RPC_SCHEMAS). */
type Routes = { [Op in PersistenceRpc]: RpcHandler<Op> };

/** Every instance serves every operation in this queue group: NATS spreads the requests. */
const RPC_QUEUE_GROUP = 'persistence';

/** Answers the other services' questions over NATS request/reply (`<ns>.rpc.persistence.<op>`). */
@Injectable()
export class PersistenceRpcServer implements OnApplicationBootstrap, OnModuleDestroy {
  private subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly admission: RunAdmission,
    private readonly runs: RunQueries,
    private readonly conversations: ConversationQueries,
    private readonly eventLog: EventLogQueries,
    private readonly knowledge: KnowledgeIngest,
    private readonly usage: UsageQueries,
    private readonly feedback: FeedbackService,
    private readonly databaseMetrics: DatabaseMetrics,
  ) {}

  /** The operations, by name: exhaustive, so an operation added to the contract must be served. */
  private routes(): Routes {
    return {
      [PERSISTENCE_RPC.admitRun]: (req) => this.admission.admit(req),
      [PERSISTENCE_RPC.abandonRun]: (req) => this.runs.abandon(req),
      [PERSISTENCE_RPC.getRun]: (req) => this.runs.get(req),
      [PERSISTENCE_RPC.listConversations]: (req) => this.conversations.list(req),
      // Each assistant message with the user's rating: a query of its own beside the page's.
      [PERSISTENCE_RPC.listMessages]: async (req) => this.feedback.withFeedback(req.userId, await this.conversations.messages(req)),
      [PERSISTENCE_RPC.switchBranch]: (req) => this.conversations.switchBranch(req),
      [PERSISTENCE_RPC.history]: (req) => this.conversations.history(req),
      [PERSISTENCE_RPC.eventsAfter]: (req) => this.eventLog.after(req),
      [PERSISTENCE_RPC.ingestKnowledge]: (req) => this.knowledge.ingest(req),
      [PERSISTENCE_RPC.userUsage]: (req) => this.usage.user(req),
      [PERSISTENCE_RPC.dayUsage]: (req) => this.usage.day(req),
      [PERSISTENCE_RPC.setFeedback]: (req) => this.feedback.set(req),
      [PERSISTENCE_RPC.listFeedback]: (req) => this.feedback.list(req),
      [PERSISTENCE_RPC.ping]: () => this.ping(),
    };
  }

  /** Resolves once the NATS server has the subscriptions: a started instance answers at once. */
  async onApplicationBootstrap() {
    const routes = this.routes();
    for (const op of Object.values(PERSISTENCE_RPC)) this.serve(op, routes[op] as RpcHandler<typeof op>);
    await this.nc.flush();
    this.logger.info({ subjects: this.subjects.rpcAll, queue: RPC_QUEUE_GROUP }, 'serving persistence rpc');
  }

  /** Serves one operation: validated by serveRpc, guarded (guardRpc), tracked until answered. */
  private serve<Op extends PersistenceRpc>(op: Op, handle: RpcHandler<Op>): void {
    const guarded: RpcHandler<Op> = (request) =>
      this.track(
        guardRpc(
          request,
          () => handle(request),
          (err) => this.databaseMetrics.failed(op, err),
        ),
      );
    this.subscriptions.push(serveRpc(this.nc, this.subjects, op, guarded, { queue: RPC_QUEUE_GROUP, logger: this.logger }));
  }

  /** Stops taking requests, then waits for the ones being answered. */
  async onModuleDestroy() {
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    for (const sub of subscriptions) sub.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Readiness: the database answers. */
  private async ping(): Promise<{ ok: true }> {
    await this.dataSource.query('SELECT 1');
    return { ok: true };
  }

  private track<R>(work: Promise<R>): Promise<R> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }
}
