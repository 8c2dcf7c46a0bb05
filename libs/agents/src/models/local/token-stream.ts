import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenChunk } from '../model-provider';
import { tokenize } from './tokenize';

export interface TokenStreamOptions {
  signal: AbortSignal;
  /** Pause before each token, like a model generating it. 0 = as fast as the consumer takes them. */
  delayMs: number;
  onToken?: (chunk: TokenChunk) => void | Promise<void>;
}

/**
 * "Generates" a text token by token: paced by `delayMs`, handing each token to `onToken`,
 * and stopping as soon as the signal aborts (rejecting with its reason).
 */
export async function streamTokens(text: string, { signal, delayMs, onToken }: TokenStreamOptions): Promise<void> {
  const tokens = tokenize(text);
  for (let index = 0; index < tokens.length; index++) {
    signal.throwIfAborted();
    // node:timers rejects an aborted wait with its own AbortError: the caller gets the signal's reason.
    if (delayMs > 0) await sleep(delayMs, undefined, { signal }).catch(() => signal.throwIfAborted());
    if (onToken) await onToken({ delta: tokens[index], index, fraction: (index + 1) / tokens.length });
  }
  signal.throwIfAborted();
}
