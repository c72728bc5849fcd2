export * from './issues.js';
export * from './schema.js';
export * from './migrations.js';
export * from './parse.js';
export * from './limits.js';
export * from './json-schema.js';
