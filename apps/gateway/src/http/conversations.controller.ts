import { parseInput, PERSISTENCE_RPC, type ChatSendResult, type ListConversationsReply, type ListMessagesReply } from '@herald/contracts';
import { RpcClient } from '@herald/messaging';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ChatService } from '../runs/chat.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { CurrentUser } from './current-user.decorator';
import { messagesPage } from './messages-page';
import { uuidParam, withParam } from './path-params';
import { listConversationsQuerySchema, listMessagesQuerySchema } from './query.schemas';

@Controller('v1/conversations')
@UseGuards(BearerAuthGuard)
export class ConversationsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly chat: ChatService,
  ) {}

  /** The user's conversations, newest `updatedAt` first. */
  @Get()
  async list(@CurrentUser() userId: string, @Query() query: unknown): Promise<ListConversationsReply> {
    const { limit, before } = parseInput(listConversationsQuerySchema, query);
    return this.rpc.call(PERSISTENCE_RPC.listConversations, { userId, limit, before });
  }

  /**
   * `{ messages, nextBefore }`: the newest `limit` stored messages older than message
   * `before`, oldest first; 404 if the conversation is not the user's, or `before` is not
   * one of its messages.
   */
  @Get(':id/messages')
  async messages(@CurrentUser() userId: string, @Param('id') id: string, @Query() query: unknown): Promise<ListMessagesReply> {
    const conversationId = uuidParam(id);
    const { limit, before } = parseInput(listMessagesQuerySchema, query);
    return messagesPage(this.rpc, { userId, conversationId, limit, before });
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
