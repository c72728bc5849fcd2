/** Stable codes so the CLI, the API and the editor can tell model problems apart. */
export type ModelErrorCode =
  | 'model_not_found'
  | 'model_file_missing'
  | 'model_file_invalid'
  | 'model_role_unknown'
  | 'model_role_mismatch'
  | 'model_session_failed'
  | 'model_run_failed'
  | 'model_io_mismatch'
  | 'model_worker_missing'
  | 'model_worker_failed'
  | 'model_released';

/** A model problem that names the model folder and, where one is at fault, the file inside it. */
export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly folder: string;
  readonly file: string | undefined;

  constructor(
    code: ModelErrorCode,
    folder: string,
    file: string | undefined,
    detail: string,
    cause?: unknown,
  ) {
    super(
      `${file === undefined ? folder : `${folder}: ${file}`}: ${detail}`,
      cause === undefined ? {} : { cause },
    );
    this.name = 'ModelError';
    this.code = code;
    this.folder = folder;
    this.file = file;
  }
}

/** A run on a session after its release (the model was released or reloaded): names the ONNX file. */
export function sessionReleasedError(path: string): ModelError {
  return new ModelError(
    'model_released',
    path,
    undefined,
    'this session was released (the model was released or reloaded); load the model again',
  );
}

/** The error a cancelled run rejects with (same shape as the DOM's AbortError). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(typeof reason === 'string' ? reason : 'The operation was aborted');
  error.name = 'AbortError';
  return error;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
