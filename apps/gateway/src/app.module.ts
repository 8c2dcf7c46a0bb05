import { type DynamicModule, Module } from '@nestjs/common';
import { AguiModule } from './agui/agui.module';
import { AiSdkModule } from './ai-sdk/ai-sdk.module';
import { CoreModule, type CoreOptions } from './core/core.module';
import { HealthModule } from './health/health.module';
import { HttpApiModule } from './http/http-api.module';
import { MetricsModule } from './metrics/metrics.module';
import { SocketModule } from './socket/socket.module';

/**
 * Herald's gateway: the Socket.IO edge (auth, per-user live delivery, client events),
 * the REST API, health and metrics, over NATS, Redis and the persistence service.
 */
@Module({})
export class AppModule {
  static forRoot(core: CoreOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(core), MetricsModule, SocketModule, HttpApiModule, AguiModule, AiSdkModule, HealthModule],
    };
  }
}
