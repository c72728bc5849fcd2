export * from './files.js';
export * from './schemas.js';
export * from './events.js';
export * from './routes.js';
