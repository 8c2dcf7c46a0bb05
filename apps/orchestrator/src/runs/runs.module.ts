import { Module } from '@nestjs/common';
import { AgentSteps } from './agent-steps.service';
import { ConversationLanes } from './conversation-lanes.service';
import { RunCancellation } from './run-cancellation.service';
import { RunConsumer } from './run-consumer.service';
import { RunEvents } from './run-events.service';
import { RunMetrics } from './run-metrics.service';
import { RunSupervisor } from './run-supervisor.service';

@Module({
  providers: [RunConsumer, RunSupervisor, ConversationLanes, RunCancellation, AgentSteps, RunEvents, RunMetrics],
})
export class RunsModule {}
