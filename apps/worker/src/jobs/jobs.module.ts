import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { RunCancelListener } from '../cancellation/run-cancel.listener';
import { RunCancellations } from '../cancellation/run-cancellations';
import { AgentJobHandler } from './agent-job.handler';
import { AgentsWorker } from './agents.worker';

/** Agent jobs: the BullMQ worker, the job handler, and cancellation of running steps. */
@Module({
  imports: [AgentsModule],
  providers: [AgentsWorker, AgentJobHandler, RunCancellations, RunCancelListener],
})
export class JobsModule {}
