import { createLogger } from '@herald/messaging';
import { startGateway } from './bootstrap';

/** Herald gateway: Socket.IO + HTTP edge on PORT. Configuration comes from the environment. */
startGateway().catch((err: unknown) => {
  createLogger('gateway').fatal({ err }, 'gateway failed to start');
  process.exit(1);
});
