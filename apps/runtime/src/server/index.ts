export { startServer, DEFAULT_LIMITS, ServerConfigError } from './server.js';
export type { DiffEditServer, ServerLimits, ServerOptions } from './server.js';
