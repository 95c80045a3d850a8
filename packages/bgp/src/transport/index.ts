export * from './clock.js';
export * from './listener.js';
export * from './memory.js';
export * from './tcp.js';
export * from './types.js';
