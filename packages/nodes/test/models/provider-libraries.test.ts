import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerUnavailableReason } from '../../src/models/ort-session.js';

const binFolder = join(
  dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')),
  'bin',
  'napi-v6',
  process.platform,
  process.arch,
);

describe('providerUnavailableReason', () => {
  it('never rules out the bundled cpu provider', () => {
    expect(providerUnavailableReason('cpu')).toBeUndefined();
  });

  it('rules out cuda exactly when its provider library is missing, naming the file', () => {
    const library = join(binFolder, 'libonnxruntime_providers_cuda.so');
    const reason = providerUnavailableReason('cuda');
    if (process.platform !== 'linux') return;
    if (existsSync(library)) expect(reason).toBeUndefined();
    else expect(reason).toContain(library);
  });
});
