export { batchCommand, imageTarget } from './command.js';
export type { BatchContext, BatchFlags } from './command.js';
export { BatchInputError, imageFolderRows, parseRowsCsv } from './rows.js';
export type { BatchRow } from './rows.js';
export { prepareRows } from './prepare.js';
export type { PreparedRow } from './prepare.js';
export type { BatchSummary, RowStatus, RowSummary } from './summary.js';
export { ServerClient, ServerRequestError } from './server-client.js';
