import { Inject, Injectable } from '@nestjs/common';
import type { EventData, Subjects, Trace } from '@herald/contracts';
import { EventPublisher, type RunScope } from '@herald/messaging';
import type { NatsConnection } from 'nats';
import { NATS, SUBJECTS } from '../infrastructure/tokens';

type TerminalType = 'orchestration_completed' | 'run_cancelled' | 'error';

/**
 * The supervisor's own events. Their JetStream msg ids are fixed per run, and every terminal
 * event of a run shares one msg id: a run re-driven after a crash, or racing terminal paths,
 * can store at most one terminal event.
 */
@Injectable()
export class RunEvents {
  private readonly publisher: EventPublisher;

  constructor(@Inject(NATS) nc: NatsConnection, @Inject(SUBJECTS) subjects: Subjects) {
    this.publisher = new EventPublisher(nc.jetstream(), subjects);
  }

  queued(scope: RunScope, position: number) {
    return this.publisher.publish(scope, 'run_queued', { position }, { progress: 0, msgId: `${scope.runId}:o:queued:${position}` });
  }

  started(scope: RunScope, progress: number) {
    return this.publisher.publish(scope, 'orchestration_started', {}, { progress, msgId: `${scope.runId}:o:started` });
  }

  terminal<T extends TerminalType>(scope: RunScope, type: T, data: EventData<T>, trace?: Trace) {
    return this.publisher.publish(scope, type, data, { progress: 1, trace, msgId: `${scope.runId}:o:terminal` });
  }
}
