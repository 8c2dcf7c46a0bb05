import { isAdmin } from '@herald/auth';
import {
  ErrorCode,
  HeraldError,
  type IngestKnowledgeReply,
  ingestKnowledgeRequestSchema,
  parseInput,
  PERSISTENCE_RPC,
} from '@herald/contracts';
import { RpcClient } from '@herald/messaging';
import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import type { AuthenticatedRequest } from './authenticated-request';
import { BearerAuthGuard } from './bearer-auth.guard';

/**
 * `POST /v1/knowledge { documents: [{ name, content }] }`: adds Markdown or text documents
 * to the knowledge base (a document with the same name is replaced). Admins only: a token
 * whose `role` claim is `admin` or whose `roles` claim contains it.
 */
@Controller('v1/knowledge')
@UseGuards(BearerAuthGuard)
export class KnowledgeController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  async ingest(@Req() req: AuthenticatedRequest, @Body() body: unknown): Promise<IngestKnowledgeReply> {
    if (!req.heraldUser || !isAdmin(req.heraldUser.claims)) {
      throw new HeraldError(ErrorCode.FORBIDDEN, 'Adding to the knowledge base needs an admin token.');
    }
    const request = parseInput(ingestKnowledgeRequestSchema, body);
    return this.rpc.call(PERSISTENCE_RPC.ingestKnowledge, request, { timeoutMs: 30_000 });
  }
}
