import type { RunCancelResult } from '@herald/contracts';
import { Body, Controller, Get, Headers, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { RunCommandsService } from '../runs/run-commands.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { CurrentUser } from './current-user.decorator';
import { ifNoneMatchHits, runEtagOf } from './etag';
import { uuidParam, withParam } from './path-params';
import { RunEtags } from './run-etags.service';

@Controller('v1/runs')
@UseGuards(BearerAuthGuard)
export class RunsController {
  constructor(
    private readonly runs: RunCommandsService,
    private readonly etags: RunEtags,
  ) {}

  /**
   * The run's snapshot, with an ETag so that pollers get 304 while nothing changed. A settled
   * snapshot's tag is checked against the run's last event in JetStream: 304 without a
   * persistence round trip (see runEtagOf).
   */
  @Get(':runId')
  async snapshot(
    @CurrentUser() userId: string,
    @Param('runId') runId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const id = uuidParam(runId);
    res.setHeader('Cache-Control', 'no-cache');
    const unchanged = await this.etags.unchanged(userId, id, ifNoneMatch);
    if (unchanged) {
      res.setHeader('ETag', unchanged);
      res.status(304).end();
      return;
    }
    const snapshot = await this.runs.get(userId, id);
    const body = JSON.stringify(snapshot);
    const etag = runEtagOf(snapshot, body);
    res.setHeader('ETag', etag);
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
