import type { TokenChunk } from '../model-provider';
import { abortableSleep } from './abortable-sleep';
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
    if (delayMs > 0) await abortableSleep(delayMs, signal);
    if (onToken) await onToken({ delta: tokens[index], index, fraction: (index + 1) / tokens.length });
  }
  signal.throwIfAborted();
}
