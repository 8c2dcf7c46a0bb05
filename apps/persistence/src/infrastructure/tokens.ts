/** Nest injection tokens for the persistence service's connections (the DataSource is its own token). */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const SUBJECTS = Symbol('SUBJECTS');
export const NATS = Symbol('NATS');
