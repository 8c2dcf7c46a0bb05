import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { UsageModule } from '../usage/usage.module';
import { RunAdmission } from './run-admission.service';
import { RunQueries } from './run-queries.service';
import { RunRepository } from './run.repository';

@Module({
  imports: [ConversationsModule, UsageModule],
  providers: [RunRepository, RunAdmission, RunQueries],
  exports: [RunAdmission, RunQueries],
})
export class RunsModule {}
