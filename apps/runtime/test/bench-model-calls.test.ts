import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ModelManagerKey } from '@diffedit/nodes';
import type { WireTensor } from '@diffedit/nodes';
import { writeToyPack } from '@diffedit/toy-models';

import {
  callShape,
  callsByComponent,
  ModelCallRecorder,
  openReplay,
  sessionRunByCallShape,
} from '../src/bench/model-calls.js';
import type { RecordedCall } from '../src/bench/model-calls.js';
import { threadCpuGroups, threadCpuTimes } from '../src/bench/thread-cpu.js';
import { runTraced } from '../src/bench/workflow-benches.js';
import { applyOverrides } from '../src/overrides.js';
import { createRuntime } from '../src/runtime.js';

const WORKFLOW = fileURLToPath(new URL('../../../workflows/diffedit-prompts.json', import.meta.url));

const feed = (dims: number[]): WireTensor => ({
  type: 'float32',
  dims,
  data: new Float32Array(dims.reduce((n, d) => n * d, 1)),
});
const call = (component: string, dims: number[]): RecordedCall => ({
  path: `/models/m/${component}/model.onnx`,
  feeds: { sample: feed(dims) },
  outputs: undefined,
});

describe('sessionRunByCallShape', () => {
  it('sums each repetition by component and first-input shape, then takes the medians', () => {
    const calls = [call('unet', [16, 4, 2, 2]), call('unet', [2, 4, 2, 2]), call('unet', [2, 4, 2, 2])];
    expect(calls.map(callShape)).toEqual(['unet 16×4×2×2', 'unet 2×4×2×2', 'unet 2×4×2×2']);
    const byShape = sessionRunByCallShape(
      calls,
      [
        [10, 1, 2],
        [30, 2, 2],
        [20, 3, 3],
      ],
      [
        [10, 1, 1],
        [10, 1, 1],
        [16, 9, 9],
      ],
    );
    expect(byShape).toEqual({
      'unet 16×4×2×2': { calls: 1, inRunMedianMs: 20, replayMedianMs: 10, ratio: 2 },
      'unet 2×4×2×2': { calls: 2, inRunMedianMs: 4, replayMedianMs: 2, ratio: 2 },
    });
  });

  it('refuses call times that do not match the recorded calls', () => {
    expect(() => sessionRunByCallShape([call('unet', [2])], [[1, 2]], [[1]])).toThrow(/2 call times/);
  });
});

describe('recording and replaying a workflow’s session calls (toy models)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffedit-replay-'));
    await writeToyPack(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays every call of a run with the session options of the runtime’s model manager', async () => {
    const recorder = new ModelCallRecorder();
    const runtime = createRuntime({
      modelsDir: dir,
      inputsDir: join(WORKFLOW, '..'),
      log: () => {},
      modelObserver: recorder,
      threads: 1,
    });
    try {
      const workflow = JSON.parse(await readFile(WORKFLOW, 'utf8')) as {
        nodes: { id: string; type: string }[];
      };
      const image = workflow.nodes.find((n) => n.type === 'LoadImage')!.id;
      const document = applyOverrides(workflow, [
        { nodeId: image, param: 'width', value: 64 },
        { nodeId: image, param: 'height', value: 64 },
      ]);
      recorder.reset(true);
      await runTraced(runtime, document, 'recorded run');
      const calls = recorder.calls;
      expect(recorder.callMs).toHaveLength(calls.length);
      expect(recorder.runCount).toBe(calls.length);
      // the mask: 2 calls for the source half's 20 rows (max_batch 16), 1 for the target's own 10 rows; 40
      // inversion and 40 denoising steps
      expect(callsByComponent(calls)).toMatchObject({ unet: 83, vae_encoder: 1, vae_decoder: 1 });

      const options = runtime.services.tryGet(ModelManagerKey)!.sessionOptions;
      expect(options).toMatchObject({ intraOpNumThreads: 1, allowSpinning: false });
      const replay = await openReplay(calls, options);
      try {
        const pass = await replay.pass();
        expect(pass.callMs).toHaveLength(calls.length);
        expect(pass.ms).toBeCloseTo(
          pass.callMs.reduce((a, b) => a + b, 0),
          6,
        );
        const byShape = sessionRunByCallShape(calls, [recorder.callMs], [pass.callMs]);
        // 3 GenerateMask chunks (16 + 4 source rows, the target's own 10 rows), then 40 guided inversion and
        // 40 guided denoising steps
        expect(byShape['unet 2×4×8×8'].calls).toBe(80);
        expect(byShape['unet 16×4×8×8'].calls).toBe(1);
        expect(byShape['unet 4×4×8×8'].calls).toBe(1);
        expect(byShape['unet 10×4×8×8'].calls).toBe(1);
        expect(Object.values(byShape).reduce((n, s) => n + s.calls, 0)).toBe(calls.length);
      } finally {
        await replay.close();
      }
    } finally {
      await runtime.close();
    }
  });
});

describe('the replay worker', () => {
  it('rejects, naming the file, when a recorded model cannot be opened', async () => {
    const calls = [call('unet', [1, 4, 8, 8])];
    calls[0].path = join(tmpdir(), 'no-such-model-dir', 'unet', 'model.onnx');
    await expect(openReplay(calls, { providers: ['cpu'] })).rejects.toThrow(/no-such-model-dir/);
  });
});

describe('thread CPU groups', () => {
  it('splits the CPU used between snapshots into main, libvips, earlier and later threads', () => {
    const main = process.pid;
    const before = new Map([
      [main, { name: 'node', ms: 100 }],
      [main + 1, { name: 'node', ms: 5 }],
      [main + 7, { name: 'libvips worker', ms: 1 }],
    ]);
    const after = new Map([
      [main, { name: 'node', ms: 130 }],
      [main + 1, { name: 'node', ms: 12 }],
      [main + 7, { name: 'libvips worker', ms: 4 }],
      [main + 9, { name: 'node', ms: 50 }], // started between the snapshots
    ]);
    expect(threadCpuGroups(before, after, new Set([main, main + 1]))).toEqual({
      main: 30,
      libvips: 3,
      earlierThreads: 7,
      laterThreads: 50,
    });
  });

  it.runIf(process.platform === 'linux')('reads every thread of this process, the main one included', () => {
    const threads = threadCpuTimes()!;
    expect(threads.get(process.pid)?.ms).toBeGreaterThan(0);
  });
});
