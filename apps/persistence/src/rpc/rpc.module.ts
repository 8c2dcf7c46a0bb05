import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { EventLogModule } from '../event-log/event-log.module';
import { FeedbackModule } from '../feedback/feedback.module';
import { KnowledgeIngest } from '../knowledge/knowledge-ingest.service';
import { RunsModule } from '../runs/runs.module';
import { UsageModule } from '../usage/usage.module';
import { PersistenceRpcServer } from './persistence-rpc.service';

@Module({
  imports: [ConversationsModule, RunsModule, EventLogModule, UsageModule, FeedbackModule],
  providers: [PersistenceRpcServer, KnowledgeIngest],
})
export class RpcModule {}
