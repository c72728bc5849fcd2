import { InProcessBackend } from './in-process-backend.js';
import type { InferenceMode, SessionBackend } from './model-session.js';
import { WorkerBackend } from './worker-backend.js';

export function createSessionBackend(mode: InferenceMode, workerPath?: string): SessionBackend {
  return mode === 'worker' ? new WorkerBackend(workerPath) : new InProcessBackend();
}
