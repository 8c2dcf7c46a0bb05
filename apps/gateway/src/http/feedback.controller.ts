import { isAdmin } from '@herald/auth';
import { ErrorCode, HeraldError, type ListFeedbackReply, parseInput, type SetFeedbackReply } from '@herald/contracts';
import { Body, Controller, Get, Param, Put, Query, Req, UseGuards } from '@nestjs/common';
import { FeedbackService } from '../feedback/feedback.service';
import type { AuthenticatedRequest } from './authenticated-request';
import { BearerAuthGuard } from './bearer-auth.guard';
import { CurrentUser } from './current-user.decorator';
import { uuidParam, withParam } from './path-params';
import { listFeedbackQuerySchema } from './query.schemas';

/** `PUT /v1/messages/:messageId/feedback`: as `message:feedback` (PROTOCOL.md §2, §6). */
@Controller('v1/messages')
@UseGuards(BearerAuthGuard)
export class MessageFeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  /** Body `{ rating, comment? }` (a `messageId` in it must equal the URL's); answers `{ feedback }`, the rating now stored or null. */
  @Put(':messageId/feedback')
  rate(@CurrentUser() userId: string, @Param('messageId') id: string, @Body() body: unknown): Promise<SetFeedbackReply> {
    return this.feedback.rate(userId, withParam(body, 'messageId', uuidParam(id)));
  }
}

/** `GET /v1/admin/feedback?since=&limit=&after=`: the current ratings changed since `since`, for admins only. */
@Controller('v1/admin/feedback')
@UseGuards(BearerAuthGuard)
export class AdminFeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  @Get()
  list(@Req() req: AuthenticatedRequest, @Query() query: unknown): Promise<ListFeedbackReply> {
    if (!req.heraldUser || !isAdmin(req.heraldUser.claims)) {
      throw new HeraldError(ErrorCode.FORBIDDEN, 'The feedback export needs an admin token.');
    }
    return this.feedback.list(parseInput(listFeedbackQuerySchema, query));
  }
}
