import { Injectable } from '@nestjs/common';
import type { EventData, Trace } from '@herald/contracts';
import { EventPublisher, type RunScope } from '@herald/messaging';
import { RunMetrics } from './run-metrics.service';

type TerminalType = 'orchestration_completed' | 'run_cancelled' | 'error';

/**
 * The supervisor's own events. Their JetStream msg ids are fixed per run, and every terminal
 * event of a run shares one msg id: a run re-driven after a crash, or racing terminal paths,
 * can store at most one terminal event.
 */
@Injectable()
export class RunEvents {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly metrics: RunMetrics,
  ) {}

  queued(scope: RunScope, position: number) {
    return this.publisher.publish(scope, 'run_queued', { position }, { progress: 0, msgId: `${scope.runId}:o:queued:${position}` });
  }

  started(scope: RunScope, progress: number) {
    this.metrics.started(scope.runId);
    return this.publisher.publish(scope, 'orchestration_started', {}, { progress, msgId: `${scope.runId}:o:started` });
  }

  async terminal<T extends TerminalType>(scope: RunScope, type: T, data: EventData<T>, trace?: Trace) {
    const id = await this.publisher.publish(scope, type, data, { progress: 1, trace, msgId: `${scope.runId}:o:terminal` });
    this.metrics.ended(scope.runId, type);
    return id;
  }
}
