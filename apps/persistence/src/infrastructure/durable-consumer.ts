import { ConsumerEvents, type ConsumerConfig, type ConsumerMessages, type JetStreamManager } from 'nats';

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

/**
 * A deleted consumer (or stream) does not end `consume()`'s messages by itself: this closes
 * them when it happens (calling `onGone` first), so the caller's loop can recreate it.
 */
export async function closeWhenConsumerIsGone(messages: ConsumerMessages, onGone: (status: string) => void): Promise<void> {
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
