export {};
export * from './tensor/index.js';
export * from './schedulers/index.js';
export * from './workflow/index.js';
export * from './graph/index.js';
export * from './random/index.js';
export * from './diffedit/index.js';
export * from './api/index.js';
