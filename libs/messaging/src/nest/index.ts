export * from './bootstrap-context';
export * from './messaging.module';
export * from './tokens';
