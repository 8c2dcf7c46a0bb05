import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import {
  type AdmitRunReply,
  type AdmitRunRequest,
  type EventData,
  type EventType,
  PERSISTENCE_RPC,
  type PersistenceRpc,
  type RpcReply,
  type RpcRequestInput,
  type RpcResult,
  type RunStatus,
  subjects,
  type Subjects,
} from '@herald/contracts';
import { loadConfig } from '@herald/config';
import { quoteIdentifier, withDatabase } from '@herald/db';
import { decodeJson, encodeJson, EventPublisher, JetStreamPublisher, RpcClient } from '@herald/messaging';
import IORedis from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { bootstrap } from '../../apps/persistence/src/bootstrap';

const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A row of the runs table, as the gateway asked persistence to admit it. */
export interface AdmittedRun {
  runId: string;
  conversationId: string;
  messageId: string;
  userMessageId: string;
  clientMessageId: string | null;
  content: string;
  options: AdmitRunRequest['options'];
  status: RunStatus;
}

/** The error (code and message) a call rejects with. */
export async function errorOf(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await work;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { code: e.code ?? 'no code', message: e.message ?? '' };
  }
  throw new Error('expected the call to fail');
}

/** The error code a call rejects with. */
export async function errorCodeOf(work: Promise<unknown>): Promise<string> {
  return (await errorOf(work)).code;
}

/**
 * Persistence running in-process on its own database (`herald_test_<random>`) and namespace,
 * with a real NATS client to call it (RpcClient), publish events (EventPublisher),
 * and a Postgres client to look at the tables.
 */
export class PersistenceHarness {
  readonly namespace: string;
  readonly subjects: Subjects;
  readonly dbName: string;
  readonly databaseUrl: string;
  readonly apps: INestApplicationContext[] = [];
  nc!: NatsConnection;
  client!: RpcClient;
  publisher!: EventPublisher;
  db!: Client;

  /**
   * `env`: more configuration for every instance (e.g. QUOTA_DAILY_TOKENS); `namespace`: another
   * test's (a gateway's), whose streams that test owns, or a new one of its own.
   */
  constructor(
    private readonly env: Record<string, string> = {},
    namespace?: string,
  ) {
    this.ownsStreams = namespace === undefined;
    this.namespace = namespace ?? `t${randomBytes(5).toString('hex')}`;
    this.subjects = subjects(this.namespace);
    this.dbName = `herald_test_${this.namespace}`;
    this.databaseUrl = withDatabase(BASE_DB, this.dbName);
  }

  private readonly ownsStreams: boolean;

  static async start(instances = 1, env: Record<string, string> = {}, namespace?: string): Promise<PersistenceHarness> {
    const h = new PersistenceHarness(env, namespace);
    await Promise.all(Array.from({ length: instances }, () => h.startInstance()));
    h.nc = await connect({ servers: NATS_URL });
    h.client = new RpcClient(h.nc, h.subjects);
    h.publisher = new EventPublisher(new JetStreamPublisher(h.nc), h.subjects);
    h.db = new Client({ connectionString: h.databaseUrl });
    await h.db.connect();
    return h;
  }

  /** Starts one more persistence instance on the same database and namespace. */
  async startInstance(): Promise<INestApplicationContext> {
    const app = await bootstrap(
      loadConfig(
        {
          NODE_ENV: 'test',
          HERALD_NAMESPACE: this.namespace,
          NATS_URL,
          DATABASE_URL: this.databaseUrl,
          LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
          ...this.env,
        },
        { tokens: false }, // persistence verifies no tokens
      ),
    );
    this.apps.push(app);
    return app;
  }

  async stopInstances(): Promise<void> {
    await Promise.all(this.apps.splice(0).map((app) => app.close()));
  }

  call<Op extends PersistenceRpc>(op: Op, request: RpcRequestInput<Op>): Promise<RpcResult<Op>> {
    return this.client.call(op, request);
  }

  /** Sends any payload to `op` as it is, past the client's checks: what the server itself answers. */
  async raw(op: PersistenceRpc, payload: unknown): Promise<RpcReply<unknown>> {
    const msg = await this.nc.request(this.subjects.rpc(op), encodeJson(payload), { timeout: 5000 });
    return decodeJson<RpcReply<unknown>>(msg.data);
  }

  /** A run.admit request with fresh ids; `over` changes any field. */
  admitRequest(userId: string, over: Partial<AdmitRunRequest> = {}): AdmitRunRequest {
    return {
      userId,
      conversationId: 'new',
      newConversationId: randomUUID(),
      runId: randomUUID(),
      messageId: randomUUID(),
      userMessageId: randomUUID(),
      content: 'What is NATS JetStream?',
      options: { traceLevel: 'none', stream: false, onBusy: 'enqueue' },
      ...over,
    };
  }

  admit(userId: string, over: Partial<AdmitRunRequest> = {}): Promise<AdmitRunReply> {
    return this.call(PERSISTENCE_RPC.admitRun, this.admitRequest(userId, over));
  }

  /** Publishes one event of a run; resolves with its id (the stream sequence). */
  publish<T extends EventType>(
    run: { userId: string; conversationId: string; runId: string },
    type: T,
    data: EventData<T>,
    progress: number,
    msgId = `${run.runId}:${type}:${progress}`,
  ): Promise<number> {
    return this.publisher.publish(run, type, data, { progress, msgId });
  }

  /**
   * Makes the messages of a conversation written straight into the table one branch, in the
   * order they were created (as the tree migration does), its last one the active leaf.
   */
  async linkAsOneBranch(conversationId: string): Promise<void> {
    await this.db.query(
      `UPDATE messages m SET parent_id = o.prev
         FROM (SELECT id, lag(id) OVER (ORDER BY created_at, id) AS prev FROM messages WHERE conversation_id = $1) o
        WHERE m.id = o.id`,
      [conversationId],
    );
    await this.db.query(
      `UPDATE conversations SET active_leaf_id = (SELECT id FROM messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)
        WHERE id = $1`,
      [conversationId],
    );
  }

  /** A conversation of the user's with no message yet, written straight into the table. */
  async addConversation(userId: string, title = 'A conversation'): Promise<string> {
    const id = randomUUID();
    await this.db.query(`INSERT INTO conversations (id, user_id, title) VALUES ($1, $2, $3)`, [id, userId, title]);
    return id;
  }

  /** A run of the user's in a new conversation (admitted as chat:send does), then given `status`. */
  async addRun(userId: string, status: RunStatus): Promise<string> {
    const { runId } = await this.admit(userId);
    await this.setRunStatus(runId, status);
    return runId;
  }

  async setRunStatus(runId: string, status: RunStatus, progress?: number): Promise<void> {
    await this.db.query(`UPDATE runs SET status = $2, progress = COALESCE($3, progress) WHERE id = $1`, [runId, status, progress ?? null]);
  }

  /** The runs admitted for the user, oldest first: what the gateway asked persistence to admit. */
  runsOf(userId: string): Promise<AdmittedRun[]> {
    return this.rows<AdmittedRun>(
      `SELECT id AS "runId", conversation_id AS "conversationId", message_id AS "messageId", user_message_id AS "userMessageId",
              client_message_id AS "clientMessageId", content, options, status
         FROM runs WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
  }

  /** Messages written straight into a conversation, one branch in their order, the last the active leaf. */
  async addMessages(
    conversationId: string,
    messages: Array<{ id: string; role: 'user' | 'assistant'; content: string; createdAt: string }>,
  ): Promise<void> {
    for (const m of messages) {
      await this.db.query(`INSERT INTO messages (id, conversation_id, role, content, created_at) VALUES ($1, $2, $3, $4, $5)`, [
        m.id,
        conversationId,
        m.role,
        m.content,
        m.createdAt,
      ]);
    }
    await this.linkAsOneBranch(conversationId);
  }

  async rows<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(text, params)).rows as T[];
  }

  async close(): Promise<void> {
    await this.stopInstances();
    if (this.nc) {
      if (this.ownsStreams) {
        const jsm = await this.nc.jetstreamManager();
        for (const stream of Object.values(this.subjects.streams)) await jsm.streams.delete(stream).catch(() => undefined);
      }
      await this.nc.drain();
    }
    await this.db?.end().catch(() => undefined);
    if (this.env.REDIS_URL) await deleteRedisKeys(this.env.REDIS_URL, `${this.namespace}:*`);
    const admin = new Client({ connectionString: withDatabase(BASE_DB, 'postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(this.dbName)} WITH (FORCE)`);
    await admin.end();
  }
}

/** Deletes the keys a test left in Redis (the webhooks' BullMQ queue). */
async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new IORedis(url);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}
