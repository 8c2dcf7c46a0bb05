import { randomUUID } from 'node:crypto';
import {
  ACTIVE_RUN_STATUSES,
  HeraldError,
  PERSISTENCE_RPC,
  type AdmitRunReply,
  type Conversation,
  type PersistenceRpc,
  type RpcRequest,
  type RunSnapshot,
  type RunStatus,
  type StoredMessage,
  type Subjects,
} from '@herald/contracts';
import { createLogger, type RpcHandler, serveRpc } from '@herald/messaging';
import type { NatsConnection, Subscription } from 'nats';

type AdmitRequest = RpcRequest<typeof PERSISTENCE_RPC.admitRun>;

interface FakeRun {
  userId: string;
  reply: AdmitRunReply;
  snapshot: RunSnapshot;
}

/**
 * An in-memory stand-in for the persistence service's request/reply API, served on the
 * test's namespace with the real contract schemas, so the gateway is tested over real NATS.
 */
export class FakePersistence {
  readonly conversations = new Map<string, Conversation & { userId: string }>();
  readonly messages = new Map<string, StoredMessage[]>();
  readonly runs = new Map<string, FakeRun>();
  readonly admitCalls: AdmitRequest[] = [];
  readonly abandonCalls: string[] = [];
  private readonly idempotency = new Map<string, AdmitRunReply>();
  private readonly subscriptions: Subscription[] = [];
  /** At most this many messages per conversation.messages answer, as persistence cuts pages by bytes. */
  messagesPieceSize = Number.POSITIVE_INFINITY;

  constructor(nc: NatsConnection, subjects: Subjects) {
    const logger = createLogger('fake-persistence', 'silent');
    const serve = <Op extends PersistenceRpc>(op: Op, handler: RpcHandler<Op>) =>
      this.subscriptions.push(serveRpc(nc, subjects, op, handler, { queue: 'persistence', logger }));

    serve(PERSISTENCE_RPC.admitRun, async (req) => this.admit(req));
    serve(PERSISTENCE_RPC.abandonRun, async ({ runId }) => {
      this.abandonCalls.push(runId);
      this.setRunStatus(runId, 'failed');
      return { abandoned: true };
    });
    serve(PERSISTENCE_RPC.getRun, async ({ userId, runId }) => {
      const run = this.runs.get(runId);
      if (!run || run.userId !== userId) throw new HeraldError('NOT_FOUND', 'No such run.');
      return run.snapshot;
    });
    serve(PERSISTENCE_RPC.listConversations, async ({ userId, limit }) => ({
      conversations: [...this.conversations.values()]
        .filter((c) => c.userId === userId)
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, limit)
        .map(({ userId: _owner, ...c }) => c),
      nextBefore: null,
    }));
    serve(PERSISTENCE_RPC.listMessages, async ({ userId, conversationId, limit, before }) => {
      const conversation = this.conversations.get(conversationId);
      if (!conversation || conversation.userId !== userId) throw new HeraldError('NOT_FOUND', 'No such conversation.');
      const all = this.messages.get(conversationId) ?? [];
      const end = before === undefined ? all.length : all.findIndex((m) => m.id === before);
      if (end < 0) throw new HeraldError('NOT_FOUND', 'No such message.');
      const start = Math.max(0, end - Math.min(limit, this.messagesPieceSize));
      const messages = all.slice(start, end);
      return { messages, nextBefore: start > 0 && messages.length > 0 ? messages[0].id : null };
    });
    // No stored answers here: every rating names a message that is not the user's.
    serve(PERSISTENCE_RPC.setFeedback, async () => {
      throw new HeraldError('NOT_FOUND', 'Message not found');
    });
    serve(PERSISTENCE_RPC.ping, async () => ({ ok: true }));
  }

  /** A conversation owned by `userId`, for NOT_FOUND / ownership tests. */
  addConversation(userId: string, title = 'A conversation'): string {
    const id = randomUUID();
    const now = new Date().toISOString();
    this.conversations.set(id, { id, userId, title, createdAt: now, updatedAt: now });
    return id;
  }

  /** A run owned by `userId` with the given status, without going through chat:send. */
  addRun(userId: string, status: RunStatus): string {
    const conversationId = this.addConversation(userId);
    const runId = randomUUID();
    const reply: AdmitRunReply = {
      conversationId,
      runId,
      messageId: randomUUID(),
      userMessageId: randomUUID(),
      duplicate: false,
      status,
      content: 'x',
      options: { traceLevel: 'none', stream: false, onBusy: 'enqueue' },
      acceptedAt: new Date().toISOString(),
    };
    this.runs.set(runId, { userId, reply, snapshot: snapshotOf(reply) });
    return runId;
  }

  setRunStatus(runId: string, status: RunStatus, progress?: number): void {
    const run = this.runs.get(runId);
    if (!run) return;
    run.reply = { ...run.reply, status };
    run.snapshot = { ...run.snapshot, status, progress: progress ?? run.snapshot.progress };
  }

  async close(): Promise<void> {
    for (const sub of this.subscriptions) sub.unsubscribe();
  }

  private admit(req: AdmitRequest): AdmitRunReply {
    this.admitCalls.push(req);
    const key = req.clientMessageId ? `${req.userId}\u0000${req.clientMessageId}` : undefined;
    const earlier = key ? this.idempotency.get(key) : undefined;
    if (earlier) return { ...earlier, duplicate: true, status: this.runs.get(earlier.runId)?.reply.status ?? earlier.status };
    if (req.duplicateOnly) throw new HeraldError('NOT_FOUND', 'No earlier run with this clientMessageId.');

    let conversationId = req.conversationId;
    if (conversationId === 'new') {
      conversationId = req.newConversationId;
      const now = new Date().toISOString();
      this.conversations.set(conversationId, {
        id: conversationId,
        userId: req.userId,
        title: (req.content ?? '').slice(0, 40),
        createdAt: now,
        updatedAt: now,
      });
    } else {
      const conversation = this.conversations.get(conversationId);
      if (!conversation || conversation.userId !== req.userId) throw new HeraldError('NOT_FOUND', 'No such conversation.');
      const busy = [...this.runs.values()].some(
        (r) => r.reply.conversationId === conversationId && ACTIVE_RUN_STATUSES.includes(r.reply.status),
      );
      if (busy && req.options.onBusy === 'reject') throw new HeraldError('RUN_IN_PROGRESS', 'A run is in progress.');
    }
    const reply: AdmitRunReply = {
      conversationId,
      runId: req.runId,
      messageId: req.messageId,
      userMessageId: req.userMessageId,
      duplicate: false,
      status: 'queued',
      content: req.content ?? '',
      options: req.options,
      acceptedAt: new Date().toISOString(),
    };
    this.runs.set(req.runId, { userId: req.userId, reply, snapshot: snapshotOf(reply) });
    if (key) this.idempotency.set(key, reply);
    return reply;
  }
}

function snapshotOf(reply: AdmitRunReply): RunSnapshot {
  return {
    runId: reply.runId,
    conversationId: reply.conversationId,
    status: reply.status,
    progress: 0,
    lastEventId: null,
    startedAt: null,
    endedAt: null,
  };
}
