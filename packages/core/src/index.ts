export {};
export * from './tensor/index.js';
export * from './schedulers/index.js';
