import type { Logger } from './logger';

/** The `kind` label of `herald_unhandled_errors_total`. */
export const UNHANDLED_KINDS = ['unhandled_rejection', 'uncaught_exception'] as const;
export type UnhandledKind = (typeof UNHANDLED_KINDS)[number];

const listeners = new Set<(kind: UnhandledKind) => void>();

/** Hears of every unhandled error the guards see (ServiceMetrics counts them); returns the way to stop. */
export function onUnhandledError(listener: (kind: UnhandledKind) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The part of `process` the guards use (a test passes an EventEmitter). */
export interface GuardedProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (err: Error) => void): unknown;
}

export interface ProcessGuardOptions {
  proc?: GuardedProcess;
  /** Ends the process after an uncaught exception (default: process.exit). */
  exit?: (code: number) => void;
}

const guarded = new WeakSet<object>();

/**
 * Every service's last line of defence, installed once by its main.ts: nothing fails silently,
 * and one failed request does not take the service down for everybody.
 *
 * - `unhandledRejection` (a promise nobody awaited failed): logged with the error, counted,
 *   and the process keeps serving. The work that promise stood for is lost, but the failure
 *   happened inside one async chain and left no half-run synchronous code behind; exiting
 *   would turn one bad request into an outage for every user until a restart.
 * - `uncaughtException` (a synchronous throw reached the top of the stack): logged with the
 *   error, counted, and the process exits with code 1. Node documents that its state is
 *   undefined then (a callback stopped half way; resources may be held), so resuming is not
 *   safe: the supervisor (Docker, Kubernetes) starts a fresh instance and the others, in the
 *   same queue groups and consumers, take the load meanwhile.
 */
export function installProcessGuards(
  logger: Logger,
  { proc = process, exit = (code) => process.exit(code) }: ProcessGuardOptions = {},
): void {
  if (guarded.has(proc)) return;
  guarded.add(proc);
  const notify = (kind: UnhandledKind) => {
    for (const listener of listeners) {
      try {
        listener(kind);
      } catch {
        // a listener's failure must not hide the error being reported
      }
    }
  };
  proc.on('unhandledRejection', (reason) => {
    notify('unhandled_rejection');
    logger.error({ err: reason, kind: 'unhandled_rejection' }, 'unhandled promise rejection; the process goes on');
  });
  proc.on('uncaughtException', (err) => {
    notify('uncaught_exception');
    logger.fatal({ err, kind: 'uncaught_exception' }, 'uncaught exception; the process state is undefined, exiting');
    exit(1);
  });
}
