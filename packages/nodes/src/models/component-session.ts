import type { IoSpec } from './io-spec.js';
import { findSpec } from './io-spec.js';
import { errorMessage, ModelError } from './model-errors.js';
import { requireFile } from './model-files.js';
import type { ModelSession } from './model-session.js';
import type { SessionPool } from './session-pool.js';

/**
 * Opens `folder/file` through the pool; every failure names the model folder and the file, including those of
 * later runs (onnxruntime's own messages, e.g. a wrong input shape, name only the input).
 */
export async function openComponent(pool: SessionPool, folder: string, file: string): Promise<ModelSession> {
  const path = requireFile(folder, file, 'ONNX model');
  let session: ModelSession;
  try {
    session = await pool.get(path);
  } catch (error) {
    throw new ModelError('model_session_failed', folder, file, errorMessage(error), error);
  }
  return namingRunFailures(session, folder, file);
}

/** The session with run() failures rethrown as ModelErrors naming the model; aborts and ModelErrors pass. */
function namingRunFailures(session: ModelSession, folder: string, file: string): ModelSession {
  const named = (error: unknown): unknown =>
    error instanceof ModelError || (error instanceof Error && error.name === 'AbortError')
      ? error
      : new ModelError('model_run_failed', folder, file, errorMessage(error), error);
  const run: ModelSession['run'] = async (feeds, options) => {
    try {
      return await session.run(feeds, options);
    } catch (error) {
      if (options?.signal?.aborted) throw error;
      throw named(error);
    }
  };
  const link = session.link;
  return {
    ...session,
    run,
    // a failed call inside a program is named the same way
    ...(link === undefined
      ? {}
      : { link: { ...link, onFailure: (error: Error) => named(link.onFailure(error)) as Error } }),
  };
}

/** An input/output the code relies on; its absence means the export does not have the expected layout. */
export function requireSpec(
  session: ModelSession,
  kind: 'input' | 'output',
  names: readonly string[],
  folder: string,
  file: string,
): IoSpec {
  const specs = kind === 'input' ? session.inputs : session.outputs;
  for (const name of names) {
    const spec = findSpec(specs, name);
    if (spec !== undefined) return spec;
  }
  throw new ModelError(
    'model_io_mismatch',
    folder,
    file,
    `expected an ${kind} named ${names.join(' or ')}; the model has ${specs.map((s) => s.name).join(', ') || 'none'}`,
  );
}

/** Fails when the model needs inputs this code does not feed (e.g. an SDXL UNet's text_embeds / time_ids). */
export function rejectUnknownInputs(
  session: ModelSession,
  known: readonly string[],
  folder: string,
  file: string,
  hint = '',
): void {
  const unknown = session.inputs.map((s) => s.name).filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new ModelError(
      'model_io_mismatch',
      folder,
      file,
      `needs inputs this loader does not provide: ${unknown.join(', ')}${hint === '' ? '' : ` (${hint})`}`,
    );
  }
}
