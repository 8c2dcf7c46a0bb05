import { Module } from '@nestjs/common';
import { LimitsModule } from '../limits/limits.module';
import { FeedbackService } from './feedback.service';

/** Users' ratings of answers (PROTOCOL.md §2 `message:feedback`, §6), shared by Socket.IO and HTTP. */
@Module({
  imports: [LimitsModule],
  providers: [FeedbackService],
  exports: [FeedbackService],
})
export class FeedbackModule {}
