export * from './backoff.js';
export * from './collision.js';
export * from './open.js';
export * from './table.js';
export * from './types.js';
