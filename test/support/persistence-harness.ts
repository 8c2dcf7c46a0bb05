import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import {
  type AdmitRunReply,
  type AdmitRunRequest,
  type EventData,
  type EventType,
  loadConfig,
  PERSISTENCE_RPC,
  type PersistenceRpc,
  type RpcReply,
  type RpcRequestInput,
  type RpcResult,
  subjects,
  type Subjects,
} from '@herald/contracts';
import { quoteIdentifier, withDatabase } from '@herald/db';
import { decodeJson, encodeJson, EventPublisher, JetStreamPublisher, RpcClient } from '@herald/messaging';
import IORedis from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { bootstrap } from '../../apps/persistence/src/bootstrap';

const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
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
  readonly namespace = `t${randomBytes(5).toString('hex')}`;
  readonly subjects: Subjects = subjects(this.namespace);
  readonly dbName = `herald_test_${this.namespace}`;
  readonly databaseUrl = withDatabase(BASE_DB, this.dbName);
  readonly apps: INestApplicationContext[] = [];
  nc!: NatsConnection;
  client!: RpcClient;
  publisher!: EventPublisher;
  db!: Client;

  /** `env`: more configuration for every instance (e.g. QUOTA_DAILY_TOKENS). */
  constructor(private readonly env: Record<string, string> = {}) {}

  static async start(instances = 1, env: Record<string, string> = {}): Promise<PersistenceHarness> {
    const h = new PersistenceHarness(env);
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

  async rows<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(text, params)).rows as T[];
  }

  async close(): Promise<void> {
    await this.stopInstances();
    if (this.nc) {
      const jsm = await this.nc.jetstreamManager();
      for (const stream of Object.values(this.subjects.streams)) await jsm.streams.delete(stream).catch(() => undefined);
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
