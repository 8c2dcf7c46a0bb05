import {
  parseInput,
  PERSISTENCE_RPC,
  type ChatSendResult,
  type ListConversationsReply,
  type ListMessagesReply,
  type SwitchBranchReply,
} from '@herald/contracts';
import { RpcClient } from '@herald/messaging';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ChatService } from '../runs/chat.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { CurrentUser } from './current-user.decorator';
import { messagesPage } from './messages-page';
import { uuidParam, withParam } from './path-params';
import { listConversationsQuerySchema, listMessagesQuerySchema, switchBranchBodySchema } from './query.schemas';

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
   * `{ messages, nextBefore }`: the newest `limit` stored messages of the active branch (or
   * the one ending at message `leaf`) older than message `before`, oldest first, each with
   * `parentId` and `siblingIds`; 404 if the conversation is not the user's, or `before` or
   * `leaf` is not one of its messages.
   */
  @Get(':id/messages')
  async messages(@CurrentUser() userId: string, @Param('id') id: string, @Query() query: unknown): Promise<ListMessagesReply> {
    const conversationId = uuidParam(id);
    const { limit, before, leaf } = parseInput(listMessagesQuerySchema, query);
    return messagesPage(this.rpc, { userId, conversationId, limit, before, leaf });
  }

  /**
   * `{ leafMessageId }`: the branch through that message becomes the active one, down to the
   * newest message under it (the leaf it now ends at); 404 likewise.
   */
  @Put(':id/branch')
  async switchBranch(@CurrentUser() userId: string, @Param('id') id: string, @Body() body: unknown): Promise<SwitchBranchReply> {
    const conversationId = uuidParam(id);
    const { leafMessageId } = parseInput(switchBranchBodySchema, body);
    return this.rpc.call(PERSISTENCE_RPC.switchBranch, { userId, conversationId, leafMessageId });
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
