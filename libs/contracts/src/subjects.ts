/**
 * Every NATS subject, stream and consumer name of Herald, derived from the deployment's
 * namespace (HERALD_NAMESPACE, default `herald`) so that two deployments sharing one NATS
 * server never see each other's messages.
 *
 *   <ns>.cmd.run.request                  JetStream RUNS stream: accepted run requests (work queue)
 *   <ns>.cmd.run.cancel                   core NATS: cancel a run (every orchestrator and worker listens)
 *   <ns>.cmd.run.respond                  core NATS: an answer to a clarification or approval
 *   <ns>.evt.<user>.<conversation>.<run>  JetStream EVENTS stream: lifecycle events (seq = event id)
 *   <ns>.live.<user>.<conversation>.<run> core NATS: EVENTS republished with Nats-Sequence, for gateways
 *   <ns>.rpc.persistence.<op>             core NATS request/reply to the persistence service
 *   <ns>.sys.conversation.released        core NATS: a conversation has no active run any more
 *   <ns>.sys.step.settled                 core NATS: a step's BullMQ job completed or failed for good (workers → orchestrators)
 */

export const NAMESPACE_RE = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * A user id is data: it may contain `.`, `*`, `>` or spaces. It becomes one subject token
 * as unpadded base64url (letters, digits, `-`, `_`), which is reversible and collision-free.
 */
export function userToken(userId: string): string {
  return base64url(userId);
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function userIdFromToken(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}

export const PERSISTENCE_RPC = {
  admitRun: 'run.admit',
  abandonRun: 'run.abandon',
  getRun: 'run.get',
  listConversations: 'conversation.list',
  listMessages: 'conversation.messages',
  switchBranch: 'conversation.branch',
  history: 'conversation.history',
  eventsAfter: 'events.after',
  ingestKnowledge: 'knowledge.ingest',
  userUsage: 'usage.user',
  dayUsage: 'usage.day',
  setFeedback: 'feedback.set',
  listFeedback: 'feedback.list',
  ping: 'ping',
} as const;
export type PersistenceRpc = (typeof PERSISTENCE_RPC)[keyof typeof PERSISTENCE_RPC];

export interface Subjects {
  readonly namespace: string;
  readonly runRequest: string;
  /** Where the gateway publishes a conversation's run requests (under runRequest). */
  runRequestOf(conversationId: string): string;
  readonly runCancel: string;
  readonly runRespond: string;
  readonly conversationReleased: string;
  /** Where a worker says a step's job has settled for good (StepSettledNotice). */
  readonly stepSettled: string;
  readonly eventsAll: string;
  readonly liveAll: string;
  events(userId: string, conversationId: string, runId: string): string;
  eventsOfUser(userId: string): string;
  liveOfUser(userId: string): string;
  rpc(op: PersistenceRpc): string;
  readonly rpcAll: string;
  readonly streams: { events: string; runs: string };
  readonly consumers: {
    orchestratorRuns: string;
    persistenceEvents: string;
    /** Persistence's durable consumer of EVENTS that queues webhooks (only with WEBHOOK_URLS). */
    persistenceWebhooks: string;
  };
  readonly queues: {
    agents: string;
    /** One job per (run, webhook URL), delivered with retries (only with WEBHOOK_URLS). */
    webhooks: string;
  };
  /** BullMQ's key prefix for this deployment's queues. */
  readonly bullmqPrefix: string;
  /** Every other Redis key of the deployment (all under `<ns>:`). */
  readonly keys: {
    /** Set (24 h) when a run is cancelled, so a cancel that races the run's start is not lost. */
    runCancelled(runId: string): string;
    /** Set (24 h) when a run has left its conversation's lane, so it holds back no later run. */
    runLeft(runId: string): string;
    /** Sorted set: the runs waiting in a conversation's lane, by admission order. */
    conversationQueue(conversationId: string): string;
    /** The run holding a conversation's lane (a lease, renewed while it runs). */
    conversationActive(conversationId: string): string;
    /** rate-limiter-flexible key prefix for chat:send. */
    rateLimit: string;
    /** rate-limiter-flexible key prefix for authenticated HTTP reads (GET under /v1, SSE opens). */
    readRateLimit: string;
    /** Sorted set: a user's open Socket.IO connections and SSE streams, each scored by its lease's expiry (epoch ms). */
    connections(userId: string): string;
    /** Sorted set: a user's running replays (each a JetStream consumer), scored like connections. */
    replays(userId: string): string;
    /** The first ack of a user's clientMessageId (for the idempotency window), read when a repeat comes at the rate limit. */
    clientMessage(userId: string, clientMessageId: string): string;
    /** What a protocol adapter (AG-UI, AI SDK) remembers of a user's run or thread, by the adapter's `kind` and its own id. */
    protocolRecord(kind: string, userId: string, id: string): string;
  };
}

export function subjects(namespace = 'herald'): Subjects {
  if (!NAMESPACE_RE.test(namespace)) {
    throw new Error(`HERALD_NAMESPACE must match ${NAMESPACE_RE}, got "${namespace}"`);
  }
  const ns = namespace;
  const upper = ns.toUpperCase();
  return {
    namespace: ns,
    runRequest: `${ns}.cmd.run.request`,
    runRequestOf: (conversationId) => `${ns}.cmd.run.request.${conversationId}`,
    runCancel: `${ns}.cmd.run.cancel`,
    runRespond: `${ns}.cmd.run.respond`,
    conversationReleased: `${ns}.sys.conversation.released`,
    stepSettled: `${ns}.sys.step.settled`,
    eventsAll: `${ns}.evt.>`,
    liveAll: `${ns}.live.>`,
    events: (userId, conversationId, runId) => `${ns}.evt.${userToken(userId)}.${conversationId}.${runId}`,
    eventsOfUser: (userId) => `${ns}.evt.${userToken(userId)}.>`,
    liveOfUser: (userId) => `${ns}.live.${userToken(userId)}.>`,
    rpc: (op) => `${ns}.rpc.persistence.${op}`,
    rpcAll: `${ns}.rpc.persistence.>`,
    streams: { events: `${upper}_EVENTS`, runs: `${upper}_RUNS` },
    consumers: {
      orchestratorRuns: 'orchestrator_runs',
      persistenceEvents: 'persistence_event_writer',
      persistenceWebhooks: 'persistence_webhooks',
    },
    queues: { agents: 'agents', webhooks: 'webhooks' },
    bullmqPrefix: `${ns}:bull`,
    keys: {
      runCancelled: (runId) => `${ns}:run:${runId}:cancelled`,
      runLeft: (runId) => `${ns}:run:${runId}:left`,
      conversationQueue: (conversationId) => `${ns}:conv:${conversationId}:queue`,
      conversationActive: (conversationId) => `${ns}:conv:${conversationId}:active`,
      rateLimit: `${ns}:rl:send`,
      readRateLimit: `${ns}:rl:read`,
      connections: (userId) => `${ns}:conn:${userToken(userId)}`,
      replays: (userId) => `${ns}:replays:${userToken(userId)}`,
      clientMessage: (userId, clientMessageId) => `${ns}:cmid:${userToken(userId)}:${base64url(clientMessageId)}`,
      protocolRecord: (kind, userId, id) => `${ns}:${kind}:${userToken(userId)}:${base64url(id)}`,
    },
  };
}

/** Splits `<ns>.(evt|live).<user>.<conversation>.<run>` into its parts. */
export function parseEventSubject(subject: string): { userId: string; conversationId: string; runId: string } | null {
  const parts = subject.split('.');
  if (parts.length !== 5) return null;
  return { userId: userIdFromToken(parts[2]), conversationId: parts[3], runId: parts[4] };
}
