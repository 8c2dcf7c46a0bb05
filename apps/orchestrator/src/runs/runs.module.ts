import { Module } from '@nestjs/common';
import { AgentSteps } from './agent-steps';
import { ConversationLanes } from './conversation-lanes';
import { RunCancellation } from './run-cancellation';
import { RunConsumer } from './run-consumer';
import { RunEvents } from './run-events';
import { RunMetrics } from './run-metrics';
import { RunSupervisor } from './run-supervisor';

@Module({
  providers: [RunConsumer, RunSupervisor, ConversationLanes, RunCancellation, AgentSteps, RunEvents, RunMetrics],
})
export class RunsModule {}
