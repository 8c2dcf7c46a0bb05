import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { RunsModule } from '../runs/runs.module';
import { PersistenceRpcServer } from './persistence-rpc.server';

@Module({
  imports: [ConversationsModule, RunsModule],
  providers: [PersistenceRpcServer],
})
export class RpcModule {}
