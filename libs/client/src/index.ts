export * from './herald-client';
