export * from './data-source';
export * from './database-errors';
export * from './database-url';
export * from './ensure-database';
export * from './entities';
export * from './knowledge';
export * from './migrations';
export * from './run-migrations';
