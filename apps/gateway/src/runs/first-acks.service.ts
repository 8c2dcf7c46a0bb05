import type { ChatSendResult, Subjects } from '@herald/contracts';
import { LOGGER, REDIS, type Redis, SUBJECTS, withTimeout } from '@herald/messaging';
import { type Logger } from '@herald/observability';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { TIMEOUTS } from '../core/timeouts';

/** PROTOCOL.md §2: a clientMessageId is an idempotency key for 24 h (persistence's IDEMPOTENCY_WINDOW_MS). */
const CLIENT_MESSAGE_WINDOW_MS = 24 * 3600 * 1000;
/** Forgotten a little before persistence forgets, never after. */
const MARGIN_MS = 60_000;

const firstAckSchema = z.object({
  conversationId: z.string(),
  runId: z.string(),
  messageId: z.string(),
  userMessageId: z.string(),
});

/**
 * The first ack of each accepted `chat:send` that had a clientMessageId, in Redis for the
 * idempotency window: a repeat that comes when the sender is at the rate limit is answered
 * from here, so a refused send never costs a persistence call (PROTOCOL.md §2: a repeated
 * clientMessageId acks its first run even at the rate limit). Best effort both ways: a
 * missing entry means the repeat is refused RATE_LIMITED and, retried later, gets its first
 * answer from persistence.
 */
@Injectable()
export class FirstAcks {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Keeps the first ack until the end of the window that started at `acceptedAt`. */
  async remember(userId: string, clientMessageId: string, ack: ChatSendResult, acceptedAt: string): Promise<void> {
    const ttlMs = Date.parse(acceptedAt) + CLIENT_MESSAGE_WINDOW_MS - MARGIN_MS - Date.now();
    if (!(ttlMs > 0)) return;
    const value = JSON.stringify(firstAckSchema.parse(ack));
    try {
      await withTimeout(
        this.redis.set(this.subjects.keys.clientMessage(userId, clientMessageId), value, 'PX', Math.floor(ttlMs), 'NX'),
        TIMEOUTS.redisMs,
        'first ack',
      );
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'could not keep the first ack of a clientMessageId');
    }
  }

  /** The first ack of the user's clientMessageId, if one was kept. */
  async recall(userId: string, clientMessageId: string): Promise<ChatSendResult | undefined> {
    try {
      const value = await withTimeout(
        this.redis.get(this.subjects.keys.clientMessage(userId, clientMessageId)),
        TIMEOUTS.redisMs,
        'first ack',
      );
      if (value === null) return undefined;
      const parsed = firstAckSchema.safeParse(JSON.parse(value));
      return parsed.success ? parsed.data : undefined;
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'could not read the first ack of a clientMessageId');
      return undefined;
    }
  }
}
