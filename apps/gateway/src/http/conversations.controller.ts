import {
  listConversationsReplySchema,
  listMessagesReplySchema,
  parseInput,
  PERSISTENCE_RPC,
  type ChatSendResult,
  type ListConversationsReply,
} from '@herald/contracts';
import { PersistenceClient } from '@herald/messaging';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import type { z } from 'zod';
import { ChatService } from '../runs/chat.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { CurrentUser } from './current-user.decorator';
import { uuidParam, withParam } from './path-params';
import { listConversationsQuerySchema } from './query.schemas';

type StoredMessages = z.infer<typeof listMessagesReplySchema>;

@Controller('v1/conversations')
@UseGuards(BearerAuthGuard)
export class ConversationsController {
  constructor(
    private readonly persistence: PersistenceClient,
    private readonly chat: ChatService,
  ) {}

  /** The user's conversations, newest `updatedAt` first. */
  @Get()
  async list(@CurrentUser() userId: string, @Query() query: unknown): Promise<ListConversationsReply> {
    const { limit, before } = parseInput(listConversationsQuerySchema, query);
    const reply = await this.persistence.call(PERSISTENCE_RPC.listConversations, { userId, limit, before });
    return listConversationsReplySchema.parse(reply);
  }

  /** The conversation's stored messages, oldest first; 404 if it is not the user's. */
  @Get(':id/messages')
  async messages(@CurrentUser() userId: string, @Param('id') id: string): Promise<StoredMessages> {
    const reply = await this.persistence.call(PERSISTENCE_RPC.listMessages, { userId, conversationId: uuidParam(id) });
    return listMessagesReplySchema.parse(reply);
  }

  /** Same body and answer as `chat:send`; `:id` may be `new`. A W3C `traceparent` header makes the run part of the caller's trace. */
  @Post(':id/messages')
  @HttpCode(202)
  send(
    @CurrentUser() userId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('traceparent') traceparent?: string,
  ): Promise<ChatSendResult> {
    const conversationId = id === 'new' ? id : uuidParam(id);
    return this.chat.send(userId, withParam(body, 'conversationId', conversationId), traceparent);
  }
}
