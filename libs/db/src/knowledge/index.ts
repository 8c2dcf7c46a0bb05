export * from './knowledge-files';
export * from './knowledge-ingest';
export * from './markdown-chunker';
export * from './ingest-paths';
