import { type ListFeedbackReply, messageFeedbackSchema, parseInput, PERSISTENCE_RPC, type SetFeedbackReply } from '@herald/contracts';
import { RpcClient } from '@herald/messaging';
import { Injectable } from '@nestjs/common';
import { ReadRateLimiter } from '../limits/read-rate-limiter.service';

/** `message:feedback`, `PUT /v1/messages/:messageId/feedback` and the admin export, for sockets and HTTP alike. */
@Injectable()
export class FeedbackService {
  constructor(
    private readonly rpc: RpcClient,
    private readonly reads: ReadRateLimiter,
  ) {}

  /**
   * Stores, replaces or (rating null) removes the user's rating of one of their assistant
   * messages; answers the rating now stored. NOT_FOUND for an unknown message, a user message
   * and another user's message alike. A well-formed rating counts against the user's
   * READ_RATE_LIMIT_PER_MINUTE (RATE_LIMITED beyond it), so a script cannot write at database speed.
   */
  async rate(userId: string, payload: unknown): Promise<SetFeedbackReply> {
    const { messageId, rating, comment } = parseInput(messageFeedbackSchema, payload);
    await this.reads.consume(userId);
    return this.rpc.call(PERSISTENCE_RPC.setFeedback, { userId, messageId, rating, comment });
  }

  /** One page of the current ratings changed since `since` (the caller checked the admin role). */
  list(query: { since: string; limit: number; after?: string }): Promise<ListFeedbackReply> {
    return this.rpc.call(PERSISTENCE_RPC.listFeedback, query);
  }
}
