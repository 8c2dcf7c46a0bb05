export * from './logger';
export * from './process-guards';
export * from './service-metrics.service';
export * from './trace-context';
export * from './tracing';
