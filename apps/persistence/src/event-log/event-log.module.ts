import { Module } from '@nestjs/common';
import { EventLogQueries } from './event-log-queries.service';
import { EventLogRepository } from './event-log.repository';
import { EventWriter } from './event-writer';

@Module({ providers: [EventLogRepository, EventWriter, EventLogQueries], exports: [EventLogQueries] })
export class EventLogModule {}
