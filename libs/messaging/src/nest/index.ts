export * from './bootstrap-context';
export * from './messaging.module';
export * from './tokens';
export * from './health-checks.service';
export * from './health-server.service';
