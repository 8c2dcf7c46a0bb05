import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { PersistenceProbe } from './persistence-probe.service';

@Module({
  controllers: [HealthController],
  providers: [PersistenceProbe],
})
export class HealthModule {}
