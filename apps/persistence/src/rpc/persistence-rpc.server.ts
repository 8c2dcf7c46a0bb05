import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  abandonRunRequestSchema,
  admitRunRequestSchema,
  eventsAfterRequestSchema,
  getRunRequestSchema,
  historyRequestSchema,
  ingestKnowledgeRequestSchema,
  listConversationsRequestSchema,
  listMessagesRequestSchema,
  PERSISTENCE_RPC,
  type PersistenceRpc,
  type Subjects,
} from '@herald/contracts';
import { LOGGER, type Logger, NATS, serveRpc, SUBJECTS } from '@herald/messaging';
import type { NatsConnection, Subscription } from 'nats';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ConversationQueries } from '../conversations/conversation-queries.service';
import { EventLogQueries } from '../event-log/event-log-queries.service';
import { DatabaseMetrics } from '../infrastructure/database-metrics';
import { KnowledgeIngest } from '../knowledge/knowledge-ingest.service';

import { RunAdmission } from '../runs/run-admission.service';
import { RunQueries } from '../runs/run-queries.service';
import { guardRpc } from './rpc-guard';
import { rpcRoute, type RpcRoute } from './rpc-route';

/** Every instance serves every operation in this queue group: NATS spreads the requests. */
export const RPC_QUEUE_GROUP = 'persistence';

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
    private readonly databaseMetrics: DatabaseMetrics,
  ) {}

  /** The operations, by name: exhaustive, so an operation added to the contract must be served. */
  private routes(): Record<PersistenceRpc, RpcRoute> {
    return {
      [PERSISTENCE_RPC.admitRun]: rpcRoute(admitRunRequestSchema, (req) => this.admission.admit(req)),
      [PERSISTENCE_RPC.abandonRun]: rpcRoute(abandonRunRequestSchema, (req) => this.runs.abandon(req)),
      [PERSISTENCE_RPC.getRun]: rpcRoute(getRunRequestSchema, (req) => this.runs.get(req)),
      [PERSISTENCE_RPC.listConversations]: rpcRoute(listConversationsRequestSchema, (req) => this.conversations.list(req)),
      [PERSISTENCE_RPC.listMessages]: rpcRoute(listMessagesRequestSchema, (req) => this.conversations.messages(req)),
      [PERSISTENCE_RPC.history]: rpcRoute(historyRequestSchema, (req) => this.conversations.history(req)),
      [PERSISTENCE_RPC.eventsAfter]: rpcRoute(eventsAfterRequestSchema, (req) => this.eventLog.after(req)),
      [PERSISTENCE_RPC.ingestKnowledge]: rpcRoute(ingestKnowledgeRequestSchema, (req) => this.knowledge.ingest(req)),
      [PERSISTENCE_RPC.ping]: rpcRoute(z.unknown(), () => this.ping()),
    };
  }

  /** Resolves once the NATS server has the subscriptions: a started instance answers at once. */
  async onApplicationBootstrap() {
    for (const [op, route] of Object.entries(this.routes()) as [PersistenceRpc, RpcRoute][]) {
      const subject = this.subjects.rpc(op);
      const handler = (input: unknown) =>
        this.track(
          guardRpc(
            input,
            () => route.handle(input),
            (err) => this.databaseMetrics.failed(op, err),
          ),
        );
      this.subscriptions.push(serveRpc(this.nc, subject, RPC_QUEUE_GROUP, route.schema, handler, this.logger, `rpc ${op}`));
    }
    await this.nc.flush();
    this.logger.info({ subjects: this.subjects.rpcAll, queue: RPC_QUEUE_GROUP }, 'serving persistence rpc');
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
