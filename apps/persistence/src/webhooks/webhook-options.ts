import type { Resolver } from './webhook-target';
import { WEBHOOK_RETRY_WINDOW_MS } from './webhook-retry';

/** How deliveries are made; tests shorten the window. */
export interface WebhookOptions {
  /** How long after a delivery is queued it is tried (the last attempt at its end). */
  retryWindowMs: number;
  /** One attempt: DNS, connect, TLS, sending and the answer. */
  timeoutMs: number;
  /** How much of a receiver's answer is read. */
  maxResponseBytes: number;
  /** Deliveries one persistence instance makes at once. */
  concurrency: number;
  /** Host name resolution (default: the system's, as every other connection of the process). */
  resolve?: Resolver;
}

export const WEBHOOK_OPTIONS = Symbol('herald.webhook-options');

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  retryWindowMs: WEBHOOK_RETRY_WINDOW_MS,
  timeoutMs: 10_000,
  maxResponseBytes: 16 * 1024,
  concurrency: 16,
};
