import type { RunCancelResult } from '@herald/contracts';
import { Body, Controller, Get, Headers, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { RunCommandsService } from '../runs/run-commands.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { CurrentUser } from './current-user.decorator';
import { etagOf, ifNoneMatchHits } from './etag';
import { uuidParam, withParam } from './path-params';

@Controller('v1/runs')
@UseGuards(BearerAuthGuard)
export class RunsController {
  constructor(private readonly runs: RunCommandsService) {}

  /** The run's snapshot, with an ETag so that pollers get 304 while nothing changed. */
  @Get(':runId')
  async snapshot(
    @CurrentUser() userId: string,
    @Param('runId') runId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const body = JSON.stringify(await this.runs.get(userId, uuidParam(runId)));
    const etag = etagOf(body);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (ifNoneMatchHits(ifNoneMatch, etag)) {
      res.status(304).end();
      return;
    }
    res.status(200).type('application/json').send(body);
  }

  /** As `run:cancel`: 202 once the cancellation is sent, 200 `{ alreadyFinished: true }` for a finished run. */
  @Post(':runId/cancel')
  async cancel(
    @CurrentUser() userId: string,
    @Param('runId') runId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RunCancelResult> {
    const result = await this.runs.cancel(userId, { runId: uuidParam(runId) });
    res.status(result.alreadyFinished ? 200 : 202);
    return result;
  }

  /** As `run:respond`: body `{ requestId, response }`; 202 once the answer is sent. */
  @Post(':runId/respond')
  async respond(
    @CurrentUser() userId: string,
    @Param('runId') runId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Record<string, never>> {
    const result = await this.runs.respond(userId, withParam(body, 'runId', uuidParam(runId)));
    res.status(202);
    return result;
  }
}
