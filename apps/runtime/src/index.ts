export * from './runtime.js';
export * from './wiring.js';
export * from './fingerprints.js';
export * from './overrides.js';
export * from './report.js';
export * from './progress.js';
export { runCli, EXIT, internalErrorMessage } from './cli/program.js';
export type { CliIo } from './cli/program.js';
export * from './server/index.js';
