import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import type { AuthenticatedRequest } from '../http/authenticated-request';
import { BearerAuthGuard } from '../http/bearer-auth.guard';
import { CurrentUser } from '../http/current-user.decorator';
import { AiSdkService } from './ai-sdk.service';

/** The AI SDK's UI message stream (PROTOCOL.md §9): what `DefaultChatTransport({ api: '<herald>/v1/ai-sdk/chat' })` calls. */
@Controller('v1/ai-sdk/chat')
@UseGuards(BearerAuthGuard)
export class AiSdkController {
  constructor(private readonly aiSdk: AiSdkService) {}

  /** The transport's body (`id`, `messages`, `trigger`, `messageId`); the answer is a UI message stream. */
  @Post()
  async send(
    @Req() req: AuthenticatedRequest,
    @Body() body: unknown,
    @Headers('traceparent') traceparent: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    await this.aiSdk.send(req.heraldUser!, body, traceparent, res);
  }

  /** `useChat({ resume: true })`: the chat's active run from the start of its stream, or 204. */
  @Get(':id/stream')
  async resume(@Req() req: AuthenticatedRequest, @Param('id') id: string, @Res() res: Response): Promise<void> {
    if (!(await this.aiSdk.resume(req.heraldUser!, id, res))) res.status(204).end();
  }

  /** Stops the chat's run; the body (`assistantMessage`, `activeStreamId`) is accepted and ignored. */
  @Post(':id/stop')
  @HttpCode(200)
  async stop(@CurrentUser() userId: string, @Param('id') id: string): Promise<{ ok: true; alreadyFinished?: boolean }> {
    return { ok: true, ...(await this.aiSdk.stop(userId, id)) };
  }
}
