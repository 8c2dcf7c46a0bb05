import type { AgentCapabilities } from '@ag-ui/core';
import type { RunCancelResult } from '@herald/contracts';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import type { AuthenticatedRequest } from '../http/authenticated-request';
import { BearerAuthGuard } from '../http/bearer-auth.guard';
import { CurrentUser } from '../http/current-user.decorator';
import { AguiService } from './agui.service';

/** AG-UI (PROTOCOL.md §8): `Authorization: Bearer <jwt>` like every route under /v1. */
@Controller('v1/agui')
@UseGuards(BearerAuthGuard)
export class AguiController {
  constructor(private readonly agui: AguiService) {}

  /** A RunAgentInput; the answer is the run's AG-UI events as SSE (resumed after `Last-Event-ID` when given). */
  @Post()
  async run(
    @Req() req: AuthenticatedRequest,
    @Body() body: unknown,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    await this.agui.run(req.heraldUser!, body, lastEventId, traceparent, res);
  }

  /** AG-UI `AgentCapabilities`. */
  @Get('capabilities')
  capabilities(): AgentCapabilities {
    return this.agui.capabilities();
  }

  /** The AG-UI run's stream again, right after frame `after` (`Last-Event-ID` works too), or from its start. */
  @Get('runs/:runId')
  async resume(
    @Req() req: AuthenticatedRequest,
    @Param('runId') runId: string,
    @Query('after') after: unknown,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    await this.agui.resumeStream(req.heraldUser!, runId, lastEventId ?? after, res);
  }

  /** As `run:cancel` for the Herald run behind the AG-UI run: 202 `{}`, or 200 `{ alreadyFinished: true }`. */
  @Post('runs/:runId/cancel')
  @HttpCode(202)
  async cancel(
    @CurrentUser() userId: string,
    @Param('runId') runId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunCancelResult> {
    const result = await this.agui.cancel(userId, runId);
    if (result.alreadyFinished) res.status(200);
    return result;
  }
}
