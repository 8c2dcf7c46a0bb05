import { createLogger, installProcessGuards } from '@herald/observability';
import { bootstrap } from './bootstrap';

/** Unhandled rejections are logged and counted; an uncaught exception is logged and ends the process. */
installProcessGuards(createLogger('gateway'));

/** Herald gateway: Socket.IO + HTTP edge on PORT. Configuration comes from the environment. */
bootstrap().catch((err: unknown) => {
  createLogger('gateway').fatal({ err }, 'gateway failed to start');
  process.exit(1);
});
