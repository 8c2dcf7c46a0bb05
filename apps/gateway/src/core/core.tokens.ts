/** Injection tokens for the gateway's configuration and connections (interfaces have no runtime class). */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const SUBJECTS = Symbol('SUBJECTS');
export const NATS = Symbol('NATS');
export const JETSTREAM = Symbol('JETSTREAM');
export const JETSTREAM_MANAGER = Symbol('JETSTREAM_MANAGER');
export const REDIS = Symbol('REDIS');
