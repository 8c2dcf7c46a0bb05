import { Inject, Injectable } from '@nestjs/common';
import type { Subjects } from '@herald/contracts';
import { isRunCancelled, REDIS, type Redis, SUBJECTS } from '@herald/messaging';

/** Why a step's signal was aborted. */
export class StepCancelled extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'StepCancelled';
  }
}

export interface TrackedStep {
  readonly signal: AbortSignal;
  /** Stops tracking (the job has settled). */
  release(): void;
}

/**
 * The steps this worker is running, by run: a cancel aborts them. A cancel that came before
 * the step started is known by its Redis flag (set by whoever cancelled the run).
 */
@Injectable()
export class RunCancellations {
  private readonly active = new Map<string, Set<AbortController>>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SUBJECTS) private readonly subjects: Subjects,
  ) {}

  /** Tracks a step of `runId`; its signal aborts on cancel, or when `linked` aborts. */
  track(runId: string, linked?: AbortSignal): TrackedStep {
    const controller = new AbortController();
    const onLinkedAbort = () => controller.abort(new StepCancelled('stopped by the worker'));
    if (linked?.aborted) onLinkedAbort();
    else linked?.addEventListener('abort', onLinkedAbort, { once: true });
    const steps = this.active.get(runId) ?? new Set<AbortController>();
    steps.add(controller);
    this.active.set(runId, steps);
    return {
      signal: controller.signal,
      release: () => {
        linked?.removeEventListener('abort', onLinkedAbort);
        steps.delete(controller);
        if (steps.size === 0 && this.active.get(runId) === steps) this.active.delete(runId);
      },
    };
  }

  /** Aborts every step of the run running here; returns how many. */
  cancel(runId: string, reason: string): number {
    const steps = this.active.get(runId);
    if (!steps) return 0;
    let aborted = 0;
    for (const controller of steps) {
      if (controller.signal.aborted) continue;
      controller.abort(new StepCancelled(reason));
      aborted++;
    }
    return aborted;
  }

  /** True when the run was cancelled before (its flag is set). */
  isCancelled(runId: string): Promise<boolean> {
    return isRunCancelled(this.redis, this.subjects, runId);
  }

  get activeRuns(): number {
    return this.active.size;
  }
}
