import { eventIdSchema, parseInput } from '@herald/contracts';
import { Controller, Get, Headers, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { EventStreamService } from '../delivery/event-stream.service';
import { AllowQueryToken } from './allow-query-token.decorator';
import type { AuthenticatedRequest } from './authenticated-request';
import { BearerAuthGuard } from './bearer-auth.guard';

@Controller('v1/events')
@UseGuards(BearerAuthGuard)
export class EventsStreamController {
  constructor(private readonly streams: EventStreamService) {}

  /** Server-Sent Events: replay after `Last-Event-ID` (or `?after=`), then live. */
  @Get()
  @AllowQueryToken()
  async stream(
    @Req() req: AuthenticatedRequest,
    @Res() res: Response,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Query('after') after: unknown,
  ): Promise<void> {
    const cursor = lastEventId ? lastEventId.trim() : after;
    const from = cursor === undefined ? undefined : parseInput(eventIdSchema, cursor);
    await this.streams.open(req.heraldUser!, from, res);
  }
}
