import type { Logger } from '@herald/observability';
import { ConsumerEvents, type ConsumerConfig, type ConsumerMessages, type JetStreamManager, type NatsConnection } from 'nats';
import { setTimeout as delay } from 'node:timers/promises';

/** JetStream's API error code for "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

/**
 * Creates a durable consumer with `config`, or updates an existing one to `mutable` (the
 * settings JetStream lets change). Every instance of a service calls this at start and they
 * share the one durable: JetStream spreads its messages among them.
 */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
  mutable: Partial<ConsumerConfig>,
): Promise<void> {
  const durable = config.durable_name;
  const existing = await jsm.consumers.info(stream, durable).catch((err: unknown) => {
    if (apiErrorCode(err) === CONSUMER_NOT_FOUND) return null;
    throw err;
  });
  if (!existing) {
    try {
      await jsm.consumers.add(stream, { ...config, ...mutable });
      return;
    } catch (err) {
      // Another instance created it at the same moment: fall through and update it.
      if (!(await jsm.consumers.info(stream, durable).catch(() => null))) throw err;
    }
  }
  await jsm.consumers.update(stream, durable, mutable);
}

/** How long a consumer loop waits before it recreates a lost consumer and consumes again. */
const RESTART_DELAY_MS = 1_000;

export interface DurableConsumerOptions {
  nc: NatsConnection;
  stream: string;
  durable: string;
  /** Creates the durable consumer or updates it to its settings (ensureDurableConsumer). */
  ensure: (jsm: JetStreamManager) => Promise<void>;
  /** Messages JetStream hands this instance ahead of the ones being handled. */
  pullWindow: number;
  /** Handles the messages until they end (the consumer closed, lost, or failed). */
  handle: (messages: ConsumerMessages) => Promise<void>;
  /** What the logs call it ("event writer"). */
  name: string;
  logger: Logger;
}

/**
 * Consumes a durable pull consumer until stopped, shared by every instance of the service. If
 * the consumer goes away (deleted, NATS trouble) or `handle` fails, it waits a moment,
 * ensures the consumer again and starts over, so a lost consumer is recreated.
 */
export class DurableConsumerLoop {
  private readonly stopping = new AbortController();
  private messages?: ConsumerMessages;
  private readonly loop: Promise<void>;

  private constructor(private readonly opts: DurableConsumerOptions) {
    this.loop = this.run();
  }

  /** Ensures the consumer (a failure fails the service's start), then consumes in the background. */
  static async start(opts: DurableConsumerOptions): Promise<DurableConsumerLoop> {
    await opts.ensure(await opts.nc.jetstreamManager());
    return new DurableConsumerLoop(opts);
  }

  /** Closes the messages (`handle` finishes what it holds) and resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    const { nc, name, logger } = this.opts;
    while (!this.stopped) {
      try {
        await this.consume();
      } catch (err) {
        logger.error({ err }, `${name} consumer failed`);
      }
      if (this.stopped) break;
      await delay(RESTART_DELAY_MS, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      if (this.stopped) break;
      try {
        await this.opts.ensure(await nc.jetstreamManager());
      } catch (err) {
        logger.warn({ err }, `could not ensure the ${name} consumer`);
      }
    }
  }

  private async consume(): Promise<void> {
    const { nc, stream, durable, pullWindow, name, logger } = this.opts;
    const consumer = await nc.jetstream().consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: pullWindow });
    this.messages = messages;
    if (this.stopped) await messages.close();
    void closeWhenConsumerIsGone(messages, (status) => logger.warn({ status }, `${name} consumer is gone; recreating it`));
    await this.opts.handle(messages);
  }
}

/**
 * A deleted consumer (or stream) does not end `consume()`'s messages by itself: this closes
 * them when it happens (calling `onGone` first), so the loop can recreate it.
 */
async function closeWhenConsumerIsGone(messages: ConsumerMessages, onGone: (status: string) => void): Promise<void> {
  const gone: string[] = [ConsumerEvents.ConsumerDeleted, ConsumerEvents.ConsumerNotFound, ConsumerEvents.StreamNotFound];
  try {
    for await (const status of await messages.status()) {
      if (gone.includes(status.type)) {
        onGone(status.type);
        await messages.close();
        return;
      }
    }
  } catch {
    // The status stream ends with the consumer.
  }
}

function apiErrorCode(err: unknown): number | undefined {
  const apiError = (err as { api_error?: { err_code?: unknown } } | null)?.api_error;
  return typeof apiError?.err_code === 'number' ? apiError.err_code : undefined;
}
