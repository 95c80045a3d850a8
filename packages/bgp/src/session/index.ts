export * from './session.js';
export * from './types.js';
