import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { RunCancelListener } from '../cancellation/run-cancel.listener';
import { RunCancellations } from '../cancellation/run-cancellations.service';
import { RunRespondListener } from '../human/run-respond.listener';
import { AgentJobHandler } from './agent-job.handler';
import { AgentsWorker } from './agents.worker';
import { EarlierAttempts } from './earlier-attempts.service';
import { JobMetrics } from './job-metrics.service';

/** Agent jobs: the BullMQ worker, the job handler, cancellation of running steps, and the user's answers to waiting steps. */
@Module({
  imports: [AgentsModule],
  providers: [AgentsWorker, AgentJobHandler, EarlierAttempts, JobMetrics, RunCancellations, RunCancelListener, RunRespondListener],
})
export class JobsModule {}
