import { Injectable } from '@nestjs/common';
import type { DayUsageReply, PERSISTENCE_RPC, RpcRequest, UserUsageReply } from '@herald/contracts';
import { DataSource } from 'typeorm';
import { sumTotals, UsageRepository } from './usage.repository';

/** `usage.user` and `usage.day`: the reads behind `GET /v1/usage` and `GET /v1/admin/usage`. */
@Injectable()
export class UsageQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly usage: UsageRepository,
  ) {}

  async user({ userId, from, to }: RpcRequest<typeof PERSISTENCE_RPC.userUsage>): Promise<UserUsageReply> {
    const days = await this.usage.days(this.dataSource.manager, userId, from, to);
    return { days, total: sumTotals(days) };
  }

  day({ day, limit, after }: RpcRequest<typeof PERSISTENCE_RPC.dayUsage>): Promise<DayUsageReply> {
    return this.usage.users(this.dataSource.manager, day, limit, after);
  }
}
