/** The user's answer: free text to a clarification, a decision to an approval (PROTOCOL.md `run:respond`). */
export type HumanResponse = string | { approved: boolean; comment?: string };

export type HumanRequestKind = 'clarification' | 'approval';

export interface HumanRequest {
  runId: string;
  requestId: string;
  kind: HumanRequestKind;
}

/** A decision on an `approval_requested`. */
export interface Approval {
  approved: boolean;
  comment?: string;
}

/**
 * Where the answers to `ctx.ask()` and `ctx.approve()` come from. The worker's channel
 * listens to `run:respond` commands; tests use MemoryHumanChannel.
 */
export interface HumanChannel {
  /**
   * Starts waiting for the answer to `request` and returns at once (the waiter is in place
   * before the request is published, so an answer cannot be missed). The promise resolves
   * with the first answer of the right kind, and rejects with the signal's reason on abort.
   */
  waitFor(request: HumanRequest, signal: AbortSignal): Promise<HumanResponse>;
}

/** Answers that fit the request: text for a clarification, `{ approved }` for an approval. */
export function fitsRequest(kind: HumanRequestKind, response: HumanResponse): boolean {
  return kind === 'clarification' ? typeof response === 'string' : typeof response === 'object' && response !== null;
}

/** A channel nobody answers: every wait lasts until its timeout or abort. */
export const SILENT_HUMAN_CHANNEL: HumanChannel = {
  waitFor: (_request, signal) =>
    new Promise((_resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }),
};
