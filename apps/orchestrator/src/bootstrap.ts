import { type Config, loadConfig } from '@herald/config';
import { bootstrapContext } from '@herald/messaging';
import { AppModule } from './app.module';

/** Starts an orchestrator (no HTTP server: it only talks NATS and Redis). */
export function bootstrap(config: Config = loadConfig()) {
  return bootstrapContext('orchestrator', config, AppModule.forRoot);
}
