/** Injection tokens of what every Herald service shares (interfaces have no runtime class). */
export const CONFIG = Symbol('herald.config');
export const LOGGER = Symbol('herald.logger');
export const SUBJECTS = Symbol('herald.subjects');
export const NATS = Symbol('herald.nats');
/** Redis for commands: fails fast while disconnected, so callers can answer UNAVAILABLE. */
export const REDIS = Symbol('herald.redis');
/** Redis for BullMQ: retries forever, offline queue on (BullMQ's own requirement). */
export const BULLMQ_REDIS = Symbol('herald.bullmq-redis');
