export * from './graph-builder.js';
