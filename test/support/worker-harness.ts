import { runMigrations } from '@herald/db';
import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import {
  AGENT_JOB_OPTIONS,
  type AgentJob,
  agentJobId,
  type EventType,
  type StepSettledNotice,
  type StoredEvent,
  subjects,
  type Subjects,
} from '@herald/contracts';
import { loadConfig } from '@herald/config';
import { createRedis, decodeJson, EventPublisher, JetStreamPublisher, msgIdKeys, type Redis, unpackEvents } from '@herald/messaging';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { connect, type ConsumerMessages, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { bootstrap } from '../../apps/worker/src/bootstrap';
import { setTimeout as sleep } from 'node:timers/promises';

const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Chunk {
  id: string;
  documentId: string;
  title: string;
  content: string;
}

/** An event as read back from the EVENTS stream, with its sequence (the event id) and msg id. */
/** An event read from the stream: `seq` is its id (event-batch.ts), `msgId` its de-duplication key. */
export type ReadEvent = StoredEvent & { seq: number; subject: string; msgId: string | undefined };

function dbUrl(name: string): string {
  const url = new URL(BASE_DB);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A step-settled notice as received, with the job's state read from Redis on its arrival. */
export type ReceivedNotice = StepSettledNotice & { stateOnArrival?: string };

/**
 * A worker running in-process on its own namespace and database, a BullMQ queue used
 * exactly as the orchestrator uses it, every event of the namespace read back live from the
 * EVENTS stream, and every step-settled notice the worker publishes. Tests wait for jobs with
 * BullMQ's QueueEvents, independently of the notices they check.
 */
export class WorkerHarness {
  readonly namespace = `t${randomBytes(5).toString('hex')}`;
  readonly subjects: Subjects = subjects(this.namespace);
  readonly dbName = `herald_test_${this.namespace}`;
  readonly events: ReadEvent[] = [];
  readonly notices: ReceivedNotice[] = [];
  app!: INestApplicationContext;
  nc!: NatsConnection;
  publisher!: EventPublisher;
  redis!: Redis;
  queue!: Queue;
  queueEvents!: QueueEvents;
  private bullRedis!: Redis;
  private queueEventsRedis!: Redis;
  private messages?: ConsumerMessages;
  private reader?: Promise<void>;
  private closing?: Promise<void>;

  static async start(chunks: Chunk[], env: Record<string, string> = {}): Promise<WorkerHarness> {
    const h = new WorkerHarness();
    await h.createDatabase(chunks);
    h.app = await bootstrap(
      loadConfig({
        NODE_ENV: 'test',
        // Every service runs only with a real secret outside development (it signs nothing here).
        JWT_SECRET: 'worker-harness-secret-0123456789-abcdef',
        HERALD_NAMESPACE: h.namespace,
        NATS_URL,
        REDIS_URL,
        DATABASE_URL: dbUrl(h.dbName),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        WORKER_CONCURRENCY: '4',
        ...env,
      }),
    );
    h.nc = await connect({ servers: NATS_URL });
    h.publisher = new EventPublisher(new JetStreamPublisher(h.nc), h.subjects);
    h.redis = createRedis(REDIS_URL);
    h.bullRedis = createRedis(REDIS_URL, undefined, { forBullmq: true });
    const opts = { connection: h.bullRedis, prefix: h.subjects.bullmqPrefix };
    h.queue = new Queue(h.subjects.queues.agents, opts);
    h.queueEventsRedis = h.bullRedis.duplicate();
    h.queueEvents = new QueueEvents(h.subjects.queues.agents, { ...opts, connection: h.queueEventsRedis });
    await h.queueEvents.waitUntilReady();
    await h.readEvents();
    await h.readNotices();
    return h;
  }

  /** Queues a step as the orchestrator does (same job name, id and options). */
  add(job: AgentJob, jobId = agentJobId(job.runId, job.step)): Promise<Job> {
    return this.queue.add(job.agent, job, { ...AGENT_JOB_OPTIONS, jobId });
  }

  /** Queues a step and waits for its result. */
  async run(job: AgentJob): Promise<unknown> {
    return (await this.add(job)).waitUntilFinished(this.queueEvents, 20_000);
  }

  /** The run's events once the stream has been quiet for a moment (a settled job's events are all stored). */
  async settledEventsOf(runId: string): Promise<ReadEvent[]> {
    await this.quiet(150);
    return this.eventsOf(runId);
  }

  eventsOf(runId: string): ReadEvent[] {
    return this.events.filter((e) => e.runId === runId);
  }

  noticesOf(jobId: string): ReceivedNotice[] {
    return this.notices.filter((n) => n.jobId === jobId);
  }

  typesOf(runId: string): EventType[] {
    return this.eventsOf(runId).map((e) => e.type);
  }

  /** Waits until no new event has arrived for `quietMs`. */
  async quiet(quietMs = 300): Promise<void> {
    let count = -1;
    while (count !== this.events.length) {
      count = this.events.length;
      await sleep(quietMs);
    }
  }

  /** Closes the worker as SIGTERM would (once). */
  closeWorker(): Promise<void> {
    this.closing ??= this.app ? this.app.close() : Promise.resolve();
    return this.closing;
  }

  async stop(): Promise<void> {
    await this.closeWorker();
    this.messages?.stop();
    await this.reader?.catch(() => undefined);
    await this.queueEvents?.close();
    await this.queue?.close();
    await this.deleteRedisKeys();
    this.redis?.disconnect();
    this.bullRedis?.disconnect();
    this.queueEventsRedis?.disconnect();
    if (this.nc) {
      const jsm = await this.nc.jetstreamManager();
      for (const stream of Object.values(this.subjects.streams)) await jsm.streams.delete(stream).catch(() => undefined);
      await this.nc.close();
    }
    await this.dropDatabase();
  }

  private async readEvents() {
    const consumer = await this.nc.jetstream().consumers.get(this.subjects.streams.events, { filterSubjects: this.subjects.eventsAll });
    this.messages = await consumer.consume();
    const messages = this.messages;
    this.reader = (async () => {
      for await (const m of messages) {
        // One message may carry several events (group commit): each with its own id and key.
        const keys = msgIdKeys(m.headers?.get('Nats-Msg-Id') ?? '');
        (unpackEvents(m.seq, decodeJson(m.data)) ?? []).forEach(({ id, event }, i) => {
          this.events.push({ ...(event as StoredEvent), seq: Number(id), subject: m.subject, msgId: keys[i] });
        });
      }
    })();
  }

  private async readNotices() {
    this.nc.subscribe(this.subjects.stepSettled, {
      callback: (err, msg) => {
        if (err) return;
        const notice: ReceivedNotice = decodeJson<StepSettledNotice>(msg.data);
        this.notices.push(notice);
        void this.queue.getJobState(notice.jobId).then((state) => (notice.stateOnArrival = state));
      },
    });
    await this.nc.flush();
  }

  /** Runs SQL on the worker's database as its owner (the worker itself reads it read-only). */
  async sql(text: string): Promise<void> {
    const db = new Client({ connectionString: dbUrl(this.dbName) });
    await db.connect();
    try {
      await db.query(text);
    } finally {
      await db.end();
    }
  }

  /** The real schema (every migration), its seeded knowledge base replaced by the test's chunks. */
  private async createDatabase(chunks: Chunk[]) {
    await runMigrations(dbUrl(this.dbName));
    const db = new Client({ connectionString: dbUrl(this.dbName) });
    await db.connect();
    try {
      await db.query('DELETE FROM kb_documents');
      for (const documentId of new Set(chunks.map((c) => c.documentId))) {
        const title = chunks.find((c) => c.documentId === documentId)!.title;
        await db.query("INSERT INTO kb_documents (id, title, source) VALUES ($1, $2, 'test')", [documentId, title]);
      }
      for (const c of chunks) {
        await db.query('INSERT INTO kb_chunks (id, document_id, title, content) VALUES ($1, $2, $3, $4)', [
          c.id,
          c.documentId,
          c.title,
          c.content,
        ]);
      }
    } finally {
      await db.end();
    }
  }

  private async dropDatabase() {
    const admin = new Client({ connectionString: dbUrl('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
    await admin.end();
  }

  private async deleteRedisKeys() {
    if (!this.redis) return;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.namespace}:*`, 'COUNT', 1000);
      if (keys.length) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}
