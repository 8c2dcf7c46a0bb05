import { Module } from '@nestjs/common';
import { BearerAuthGuard } from '../http/bearer-auth.guard';
import { RunsModule } from '../runs/runs.module';
import { RunStreamModule } from '../run-stream/run-stream.module';
import { AiSdkController } from './ai-sdk.controller';
import { AiSdkService } from './ai-sdk.service';

/** The AI SDK adapter (PROTOCOL.md §9): Herald's runs and events as a UI message stream for `useChat`. */
@Module({
  imports: [RunsModule, RunStreamModule],
  controllers: [AiSdkController],
  providers: [AiSdkService, BearerAuthGuard],
})
export class AiSdkModule {}
