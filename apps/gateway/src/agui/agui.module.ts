import { Module } from '@nestjs/common';
import { BearerAuthGuard } from '../http/bearer-auth.guard';
import { RunsModule } from '../runs/runs.module';
import { RunStreamModule } from '../run-stream/run-stream.module';
import { AguiController } from './agui.controller';
import { AguiService } from './agui.service';

/** The AG-UI adapter (PROTOCOL.md §8): Herald's runs and events as AG-UI runs and events. */
@Module({
  imports: [RunsModule, RunStreamModule],
  controllers: [AguiController],
  providers: [AguiService, BearerAuthGuard],
})
export class AguiModule {}
