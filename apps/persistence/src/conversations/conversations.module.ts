import { Module } from '@nestjs/common';
import { ConversationQueries } from './conversation-queries.service';
import { ConversationRepository } from './conversation.repository';

@Module({
  providers: [ConversationRepository, ConversationQueries],
  exports: [ConversationRepository, ConversationQueries],
})
export class ConversationsModule {}
