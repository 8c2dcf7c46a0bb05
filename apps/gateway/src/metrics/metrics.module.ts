import { Global, Module } from '@nestjs/common';
import { GatewayMetrics } from './gateway-metrics.service';

/** The gateway's metrics; MessagingModule serves them on METRICS_PORT, never on the public port. */
@Global()
@Module({
  providers: [GatewayMetrics],
  exports: [GatewayMetrics],
})
export class MetricsModule {}
