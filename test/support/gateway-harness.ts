import { randomBytes } from 'node:crypto';
import { subjects, type AgentEvent, type Subjects } from '@herald/contracts';
import { type Config, loadConfig } from '@herald/config';
import { signDevToken } from '@herald/auth';
import { EventPublisher, JetStreamPublisher, type RunScope } from '@herald/messaging';
import { createLogger } from '@herald/observability';
import IORedis from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { io, type Socket } from 'socket.io-client';
import { bootstrap, type RunningGateway } from '../../apps/gateway/src/bootstrap';
import { PersistenceHarness } from './persistence-harness';

export const TEST_SECRET = 'integration-secret-0123456789-abcdefghij';

/** A fresh HERALD_NAMESPACE: streams, subjects and Redis keys of its own. */
export function randomNamespace(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

function testConfig(namespace: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    HERALD_NAMESPACE: namespace,
    PORT: '0',
    METRICS_PORT: '0',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    INSTANCE_ID: `gw-${randomBytes(3).toString('hex')}`,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    ...env,
  });
}

export async function startTestGateway(namespace: string, env: Record<string, string> = {}): Promise<RunningGateway> {
  const config = testConfig(namespace, env);
  return bootstrap({ config, logger: createLogger('gateway', config.LOG_LEVEL), shutdownHooks: false });
}

export function tokenFor(userId: string, ttlSeconds = 600): Promise<string> {
  return signDevToken(userId, TEST_SECRET, { ttlSeconds });
}

export interface TestClient {
  socket: Socket;
  events: AgentEvent[];
  ready: { userId: string; serverTime: string; instanceId: string };
}

/** Connects with a token and resolves after `session:ready`; every `agent:event` is collected. */
export async function connectClient(
  url: string,
  token: string,
  opts: { transports?: string[]; viaQuery?: boolean } = {},
): Promise<TestClient> {
  const socket = io(url, {
    ...(opts.viaQuery ? { query: { token } } : { auth: { token } }),
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  const events: AgentEvent[] = [];
  socket.on('agent:event', (event: AgentEvent) => events.push(event));
  const ready = await new Promise<TestClient['ready']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no session:ready within 5 s')), 5000);
    socket.once('session:ready', (info) => {
      clearTimeout(timer);
      resolve(info);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return { socket, events, ready };
}

/** Resolves with the connect_error a refused handshake produces. */
export function connectError(
  url: string,
  opts: { auth?: object; query?: Record<string, string>; transports?: string[] },
): Promise<Error & { data?: { code: string; message: string } }> {
  const socket = io(url, {
    auth: opts.auth,
    query: opts.query,
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('neither connect_error nor connect within 5 s')), 5000);
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      socket.close();
      resolve(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.close();
      reject(new Error('connected, but a connect_error was expected'));
    });
  });
}

/** The test's own NATS connection: publishes events like the orchestrator does, starts persistence. */
export class TestBus {
  readonly subjects: Subjects;
  private msgCounter = 0;

  private constructor(
    readonly nc: NatsConnection,
    readonly namespace: string,
    readonly publisher: EventPublisher,
  ) {
    this.subjects = subjects(namespace);
  }

  static async open(namespace: string): Promise<TestBus> {
    const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: `test-${namespace}` });
    return new TestBus(nc, namespace, new EventPublisher(new JetStreamPublisher(nc), subjects(namespace)));
  }

  /** The persistence app on a database of its own, serving this namespace: what the gateway calls. */
  persistence(): Promise<PersistenceHarness> {
    return PersistenceHarness.start(1, {}, this.namespace);
  }

  /** Publishes a `status` event for the scope; resolves with its id. */
  async status(scope: RunScope, message = 'working'): Promise<string> {
    const seq = await this.publisher.publish(
      scope,
      'status',
      { step: 'test', message },
      { progress: 0.5, msgId: `m-${++this.msgCounter}-${Date.now()}` },
    );
    return String(seq);
  }

  /** Deletes the namespace's streams and Redis keys, and closes the connection. */
  async cleanup(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    for (const stream of Object.values(this.subjects.streams)) await jsm.streams.delete(stream).catch(() => undefined);
    await this.nc.close();
    const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.namespace}:*`, 'COUNT', 500);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      await redis.quit();
    }
  }
}

export function closeAll(...clients: Array<TestClient | Socket | undefined>): void {
  for (const c of clients) {
    if (!c) continue;
    ('socket' in c ? c.socket : c).close();
  }
}
