import { randomBytes } from 'node:crypto';
import { subjects, type Subjects } from '@herald/contracts';
import { createRedis, type Redis } from '@herald/messaging';
import { type JobState, Queue } from 'bullmq';
import { connect, type NatsConnection } from 'nats';
import { waitFor } from './polling';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * What the orchestrator's step tests run on: a namespace of their own, a NATS connection, Redis
 * connections (plain, and two for BullMQ: the queue's and a worker's), and the agents' queue.
 */
export class StepQueue {
  private constructor(
    readonly s: Subjects,
    readonly nc: NatsConnection,
    readonly redis: Redis,
    readonly bullRedis: Redis,
    readonly workerRedis: Redis,
    readonly queue: Queue,
  ) {}

  static async open(): Promise<StepQueue> {
    const s = subjects(`t${randomBytes(5).toString('hex')}`);
    const nc = await connect({ servers: NATS_URL });
    const bullRedis = createRedis(REDIS_URL, undefined, { forBullmq: true });
    const workerRedis = createRedis(REDIS_URL, undefined, { forBullmq: true });
    const queue = new Queue(s.queues.agents, { connection: bullRedis, prefix: s.bullmqPrefix });
    return new StepQueue(s, nc, createRedis(REDIS_URL), bullRedis, workerRedis, queue);
  }

  /** Resolves once the job is in `state` (BullMQ's own record of it). */
  async untilJobState(jobId: string, state: JobState): Promise<void> {
    await waitFor(async () => (await this.queue.getJobState(jobId)) === state, `job ${jobId} ${state}`);
  }

  /** Closes the queue, deletes the namespace's keys and closes the connections. */
  async close(): Promise<void> {
    await this.queue.close();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.s.namespace}:*`, 'COUNT', 1000);
      if (keys.length) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    this.redis.disconnect();
    this.bullRedis.disconnect();
    this.workerRedis.disconnect();
    await this.nc.close();
  }
}
