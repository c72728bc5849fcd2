export * from './builtin-catalog.js';
export * from './nodes/generic/index.js';
export * from './models/index.js';
export * from './pixels/index.js';
export * from './nodes/image/index.js';
export * from './nodes/loaders/index.js';
export * from './nodes/diffedit/index.js';
