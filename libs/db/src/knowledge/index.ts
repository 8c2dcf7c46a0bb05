export * from './knowledge-files';
export * from './knowledge-ingest';
export * from './ingest-paths';
