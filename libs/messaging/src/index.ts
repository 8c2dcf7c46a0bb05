export * from './codec';
export * from './event-publisher';
export * from './headers';
export * from './logger';
export * from './nats';
export * from './redis';
export * from './rpc';
export * from './nest';
