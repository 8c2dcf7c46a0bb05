import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { EventLogModule } from '../event-log/event-log.module';
import { FeedbackModule } from '../feedback/feedback.module';
import { KnowledgeIngest } from '../knowledge/knowledge-ingest.service';
import { RunsModule } from '../runs/runs.module';
import { PersistenceRpcServer } from './persistence-rpc.server';

@Module({
  imports: [ConversationsModule, RunsModule, EventLogModule, FeedbackModule],
  providers: [PersistenceRpcServer, KnowledgeIngest],
})
export class RpcModule {}
