export * from './backoff';
export * from './event-cursor';
export * from './herald-client';
export * from './herald-client.types';
export * from './herald-request-error';
export * from './run-handle';
