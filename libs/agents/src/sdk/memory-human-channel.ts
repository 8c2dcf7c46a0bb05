import { fitsRequest, type HumanChannel, type HumanRequest, type HumanResponse } from './human-channel';

type Answerer = (request: HumanRequest) => HumanResponse | undefined;

/**
 * A HumanChannel for tests and scripts: answers at once with `answer(request)` when given,
 * otherwise waits for `respond(requestId, response)`.
 */
export class MemoryHumanChannel implements HumanChannel {
  readonly requests: HumanRequest[] = [];
  private readonly waiting = new Map<string, { request: HumanRequest; resolve: (r: HumanResponse) => void }>();

  constructor(private readonly answer?: Answerer) {}

  waitFor(request: HumanRequest, signal: AbortSignal): Promise<HumanResponse> {
    this.requests.push(request);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.waiting.delete(request.requestId);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(request.requestId, {
        request,
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          this.waiting.delete(request.requestId);
          resolve(r);
        },
      });
      const immediate = this.answer?.(request);
      if (immediate !== undefined) queueMicrotask(() => this.respond(request.requestId, immediate));
    });
  }

  /** Answers a pending request; false when none is waiting or the answer does not fit it. */
  respond(requestId: string, response: HumanResponse): boolean {
    const waiter = this.waiting.get(requestId);
    if (!waiter || !fitsRequest(waiter.request.kind, response)) return false;
    waiter.resolve(response);
    return true;
  }

  get pending(): string[] {
    return [...this.waiting.keys()];
  }
}
