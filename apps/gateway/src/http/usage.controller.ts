import { isAdmin } from '@herald/auth';
import {
  addDays,
  dailyQuotaOf,
  DEFAULT_USAGE_RANGE_DAYS,
  type DayUsageReply,
  ErrorCode,
  HeraldError,
  nextUtcMidnight,
  parseInput,
  PERSISTENCE_RPC,
  type UsageReply,
  userUsageRequestSchema,
  utcDay,
} from '@herald/contracts';
import { type Config } from '@herald/config';
import { CONFIG, RpcClient } from '@herald/messaging';
import { Controller, Get, Inject, Query, Req, UseGuards } from '@nestjs/common';
import type { AuthenticatedRequest } from './authenticated-request';
import { BearerAuthGuard } from './bearer-auth.guard';
import { CurrentUser } from './current-user.decorator';
import { adminUsageQuerySchema, usageQuerySchema } from './query.schemas';

/**
 * Usage by UTC day (PROTOCOL.md §6, §10): `GET /v1/usage` for the user, with the daily quota;
 * `GET /v1/admin/usage` for every user of one day, admins only.
 */
@Controller('v1')
@UseGuards(BearerAuthGuard)
export class UsageController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly rpc: RpcClient,
  ) {}

  /**
   * `{ days, total, quota }` from `from` to `to` (inclusive): `to` defaults to today (UTC),
   * `from` to 29 days before `to`; `from` after `to`, or more than 366 days, is INVALID_INPUT.
   */
  @Get('usage')
  async usage(@CurrentUser() userId: string, @Query() query: unknown): Promise<UsageReply> {
    const now = new Date();
    const asked = parseInput(usageQuerySchema, query);
    const to = asked.to ?? utcDay(now);
    const from = asked.from ?? addDays(to, 1 - DEFAULT_USAGE_RANGE_DAYS);
    const request = parseInput(userUsageRequestSchema, { userId, from, to });
    const { days, total } = await this.rpc.call(PERSISTENCE_RPC.userUsage, request);
    const quota = dailyQuotaOf(this.config);
    return { days, total, quota: quota && { ...quota, resetsAt: nextUtcMidnight(now).toISOString() } };
  }

  /** `{ day, users, nextAfter }`: one day's users (default today), `limit` (default 500, at most 1000) per page in user-id order. */
  @Get('admin/usage')
  async adminUsage(@Req() req: AuthenticatedRequest, @Query() query: unknown): Promise<DayUsageReply> {
    if (!req.heraldUser || !isAdmin(req.heraldUser.claims)) {
      throw new HeraldError(ErrorCode.FORBIDDEN, 'The usage of every user needs an admin token.');
    }
    const { day, limit, after } = parseInput(adminUsageQuerySchema, query);
    return this.rpc.call(PERSISTENCE_RPC.dayUsage, { day: day ?? utcDay(new Date()), limit, after });
  }
}
