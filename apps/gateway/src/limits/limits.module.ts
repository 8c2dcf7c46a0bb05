import { Module } from '@nestjs/common';
import { ConnectionLimiter } from './connection-limiter.service';
import { ReadRateLimiter } from './read-rate-limiter.service';
import { ReplayLimiter } from './replay-limiter.service';

/** Per-user limits shared by every gateway instance (Redis): connections, replays, reads. */
@Module({
  providers: [ConnectionLimiter, ReplayLimiter, ReadRateLimiter],
  exports: [ConnectionLimiter, ReplayLimiter, ReadRateLimiter],
})
export class LimitsModule {}
