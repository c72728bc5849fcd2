export { startQueueWorker } from './queue-worker.js';
export type { QueueWorker, QueueWorkerOptions } from './queue-worker.js';
export { QueueExecutor } from './queue-executor.js';
