/** An error thrown by a node's `run`; `code` is a stable identifier the CLI, API and editor can show. */
export class NodeError extends Error {
  constructor(
    message: string,
    readonly code: string = 'node_failed',
    readonly field?: string,
  ) {
    super(message);
    this.name = 'NodeError';
  }
}

/** A node rejected one of its inputs or params; `field` names it so the editor can highlight it. */
export class NodeInputError extends NodeError {
  constructor(field: string, message: string) {
    super(message, 'invalid_input', field);
    this.name = 'NodeInputError';
  }
}

/** Thrown (by ctx.progress, ctx.throwIfAborted or the executor) when a run is cancelled. */
export class RunCancelledError extends Error {
  constructor(message = 'run cancelled') {
    super(message);
    this.name = 'AbortError';
  }
}
