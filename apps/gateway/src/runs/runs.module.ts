import { Module } from '@nestjs/common';
import { ChatService } from './chat.service';
import { FirstAcks } from './first-acks.service';
import { RunCommandsService } from './run-commands.service';
import { SendRateLimiter } from './send-rate-limiter.service';

/** What clients ask of runs (send, cancel, respond, snapshot), shared by Socket.IO and HTTP. */
@Module({
  providers: [ChatService, RunCommandsService, SendRateLimiter, FirstAcks],
  exports: [ChatService, RunCommandsService],
})
export class RunsModule {}
