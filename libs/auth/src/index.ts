export * from './dev-token';
export * from './token-verifier';
export * from './unauthorized.error';
export * from './user-id';
export * from './roles';
