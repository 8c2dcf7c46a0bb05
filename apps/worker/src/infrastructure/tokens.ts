/** Nest injection tokens for the worker's configuration and connections. */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const SUBJECTS = Symbol('SUBJECTS');
export const NATS = Symbol('NATS');
/** Redis for commands (the cancel flags). */
export const REDIS = Symbol('REDIS');
/** Redis for BullMQ (retries forever, offline queue on). */
export const BULLMQ_REDIS = Symbol('BULLMQ_REDIS');
/** The read-only Postgres pool the agents' tools use (the knowledge base). */
export const KB_POOL = Symbol('KB_POOL');
export const EVENT_PUBLISHER = Symbol('EVENT_PUBLISHER');
