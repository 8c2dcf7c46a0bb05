/** Nest injection tokens for the orchestrator's connections. */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const SUBJECTS = Symbol('SUBJECTS');
export const NATS = Symbol('NATS');
export const REDIS = Symbol('REDIS');
export const BULLMQ_REDIS = Symbol('BULLMQ_REDIS');
export const PERSISTENCE = Symbol('PERSISTENCE');
