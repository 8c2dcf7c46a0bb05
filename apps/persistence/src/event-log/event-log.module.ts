import { Module } from '@nestjs/common';
import { EventLogRepository } from './event-log.repository';
import { EventWriter } from './event-writer';

@Module({ providers: [EventLogRepository, EventWriter] })
export class EventLogModule {}
