import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/onnx-builder/index.js';

async function run(
  model: Uint8Array | string,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model)
      : await ort.InferenceSession.create(model);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const f32 = (data: number[], dims: number[]): ort.Tensor =>
  new ort.Tensor('float32', Float32Array.from(data), dims);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThan(
      tol,
    );
  }
}

function blurGraph(): GraphBuilder {
  // Depthwise 3x3 conv with a fixed kernel on a dynamic-size image, then + bias scalar.
  const g = new GraphBuilder('blur');
  const x = g.input('x', 'float32', ['batch', 2, 'h', 'w']);
  const kernel = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  const w = g.constant(Float32Array.from([...kernel, ...kernel.map((v) => -v)]), [2, 1, 3, 3], 'blur_w');
  const y = g.op('Conv', [x, w], { group: 2, pads: [1, 1, 1, 1] });
  g.output(g.op('Add', [y, g.scalar(0.5)]), 'y', 'float32', ['batch', 2, 'h', 'w']);
  return g;
}

describe('GraphBuilder → onnxruntime-node', () => {
  it('Add broadcasts two dynamic inputs', async () => {
    const g = new GraphBuilder('add');
    const a = g.input('a', 'float32', ['n', 3]);
    const b = g.input('b', 'float32', [3]);
    g.output(g.op('Add', [a, b]), 'sum', 'float32', ['n', 3]);
    const out = await run(g.toModelBytes(), {
      a: f32([1, 2, 3, 4, 5, 6], [2, 3]),
      b: f32([10, 20, 30], [3]),
    });
    expect(out.sum.dims).toEqual([2, 3]);
    expectClose(out.sum.data as Float32Array, [11, 22, 33, 14, 25, 36]);
  });

  it('Conv (grouped, zero-padded) matches a direct convolution', async () => {
    const h = 4;
    const w = 5;
    const img = Array.from({ length: 2 * h * w }, (_, i) => Math.sin(i * 0.7));
    const out = await run(blurGraph().toModelBytes(), { x: f32(img, [1, 2, h, w]) });
    const k = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
    const expected: number[] = [];
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          let s = 0;
          for (let di = -1; di <= 1; di++) {
            for (let dj = -1; dj <= 1; dj++) {
              const ii = i + di;
              const jj = j + dj;
              if (ii >= 0 && ii < h && jj >= 0 && jj < w)
                s += k[(di + 1) * 3 + dj + 1] * img[c * h * w + ii * w + jj];
            }
          }
          expected.push((c === 0 ? s : -s) + 0.5);
        }
      }
    }
    expectClose(out.y.data as Float32Array, expected, 1e-5);
  });

  it('Gather picks rows of an initializer table by int32 and int64 ids', async () => {
    const g = new GraphBuilder('gather');
    const ids = g.input('ids', 'int32', ['n']);
    const table = g.constant(Float32Array.from([0, 0, 1, 10, 2, 20, 3, 30]), [4, 2], 'table');
    g.output(g.op('Gather', [table, ids], { axis: 0 }), 'rows', 'float32', ['n', 2]);
    const ids64 = g.input('ids64', 'int64', ['m']);
    g.output(g.op('Gather', [table, ids64], { axis: 0 }), 'rows64', 'float32', ['m', 2]);
    const out = await run(g.toModelBytes(), {
      ids: new ort.Tensor('int32', Int32Array.from([3, 1, 1]), [3]),
      ids64: new ort.Tensor('int64', BigInt64Array.from([2n]), [1]),
    });
    expectClose(out.rows.data as Float32Array, [3, 30, 1, 10, 1, 10]);
    expectClose(out.rows64.data as Float32Array, [2, 20]);
  });

  it('Where selects with a bool initializer', async () => {
    const g = new GraphBuilder('where');
    const x = g.input('x', 'float32', [4]);
    const cond = g.constant(Uint8Array.from([1, 0, 0, 1]), [4], 'cond');
    g.output(g.op('Where', [cond, x, g.op('Neg', [x])]), 'y', 'float32', [4]);
    const out = await run(g.toModelBytes(), { x: f32([1, 2, 3, 4], [4]) });
    expectClose(out.y.data as Float32Array, [1, -2, -3, 4]);
  });

  it('Resize (linear, half_pixel, with an omitted roi input) upsamples bilinearly', async () => {
    const g = new GraphBuilder('resize');
    const x = g.input('x', 'float32', [1, 1, 2, 2]);
    const scales = g.constant(Float32Array.from([1, 1, 2, 2]), [4], 'scales');
    const y = g.op('Resize', [x, '', scales], {
      mode: 'linear',
      coordinate_transformation_mode: 'half_pixel',
    });
    g.output(y, 'y', 'float32', [1, 1, 4, 4]);
    const out = await run(g.toModelBytes(), { x: f32([0, 1, 2, 3], [1, 1, 2, 2]) });
    // half_pixel source coords of outputs 0..3 are -0.25, 0.25, 0.75, 1.25 → clamped weights 0, .25, .75, 1.
    const t = [0, 0.25, 0.75, 1];
    const expected = t.flatMap((r) => t.map((c) => 2 * r + c));
    expectClose(out.y.data as Float32Array, expected);
  });

  it('writes explicitly typed float attributes even for integral values', async () => {
    const g = new GraphBuilder('elu');
    const x = g.input('x', 'float32', [2]);
    g.output(g.op('Elu', [x], { alpha: g.float(2) }), 'y', 'float32', [2]);
    const out = await run(g.toModelBytes(), { x: f32([-1, 3], [2]) });
    expectClose(out.y.data as Float32Array, [2 * (Math.exp(-1) - 1), 3], 1e-6);
  });

  it('writes tensor attributes (ConstantOfShape value) and int64 shape constants', async () => {
    const g = new GraphBuilder('fill');
    const x = g.input('x', 'float32', ['n']);
    const shape = g.op('Shape', [x]);
    const filled = g.op('ConstantOfShape', [shape], { value: g.attrTensor(new Float32Array([2.5]), [1]) });
    g.output(g.op('Add', [filled, x]), 'y', 'float32', ['n']);
    const out = await run(g.toModelBytes(), { x: f32([1, 2, 3], [3]) });
    expectClose(out.y.data as Float32Array, [3.5, 4.5, 5.5]);
  });

  it('splits into several outputs and passes a graph input through to an output', async () => {
    const g = new GraphBuilder('split');
    const x = g.input('x', 'float32', [4]);
    const [a, b] = g.opMulti('Split', [x, g.int64s([1, 3])], { axis: 0 }, 2);
    g.output(a, 'first', 'float32', [1]);
    g.output(b, 'rest', 'float32', [3]);
    g.output(x, 'same', 'float32', [4]);
    // `a` was renamed to the output 'first'; the old name still works as an input.
    g.output(g.op('Add', [a, a]), 'double', 'float32', [1]);
    const out = await run(g.toModelBytes(), { x: f32([5, 6, 7, 8], [4]) });
    expectClose(out.first.data as Float32Array, [5]);
    expectClose(out.rest.data as Float32Array, [6, 7, 8]);
    expectClose(out.same.data as Float32Array, [5, 6, 7, 8]);
    expectClose(out.double.data as Float32Array, [10]);
  });

  it('builds If subgraphs that read values of the outer graph', async () => {
    const g = new GraphBuilder('branch');
    const flag = g.input('flag', 'bool', []);
    const x = g.input('x', 'float32', [2]);
    const thenG = g.subgraph('then');
    thenG.output(thenG.op('Mul', [x, thenG.scalar(10)]), 'then_out', 'float32', [2]);
    const elseG = g.subgraph('else');
    elseG.output(elseG.op('Neg', [x]), 'else_out', 'float32', [2]);
    g.output(g.op('If', [flag], { then_branch: thenG, else_branch: elseG }), 'y', 'float32', [2]);
    const bytes = g.toModelBytes();
    const yes = await run(bytes, { flag: new ort.Tensor('bool', [true], []), x: f32([1, 2], [2]) });
    const no = await run(bytes, { flag: new ort.Tensor('bool', [false], []), x: f32([1, 2], [2]) });
    expectClose(yes.y.data as Float32Array, [10, 20]);
    expectClose(no.y.data as Float32Array, [-1, -2]);
  });
});

describe('GraphBuilder bytes', () => {
  it('the same graph gives identical bytes; a changed constant changes them', () => {
    const a = blurGraph().toModelBytes();
    const b = blurGraph().toModelBytes();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const g = new GraphBuilder('blur');
    const x = g.input('x', 'float32', ['batch', 2, 'h', 'w']);
    const w = g.constant(new Float32Array(18).fill(0.1), [2, 1, 3, 3], 'blur_w');
    g.output(g.op('Conv', [x, w], { group: 2, pads: [1, 1, 1, 1] }), 'y', 'float32', ['batch', 2, 'h', 'w']);
    expect(Buffer.from(g.toModelBytes()).equals(Buffer.from(a))).toBe(false);
  });

  it('names values uniquely and rejects unknown inputs, duplicate names and bad shapes', () => {
    const g = new GraphBuilder('names');
    const x = g.input('x', 'float32', [2]);
    const c1 = g.constant(new Float32Array([1, 2]), [2], 'c');
    const c2 = g.constant(new Float32Array([3, 4]), [2], 'c');
    expect(c1).not.toBe(c2);
    const s1 = g.op('Add', [x, c1]);
    const s2 = g.op('Add', [x, c2]);
    expect(s1).not.toBe(s2);
    expect(() => g.op('Add', [x, 'nope'])).toThrow(/input 'nope' is not a value of graph 'names'/);
    expect(() => g.input('x', 'float32', [2])).toThrow(/already used/);
    expect(() => g.constant(new Float32Array(3), [2, 2], 'bad')).toThrow(/4 elements but the data has 3/);
    expect(() => g.constant(new Float32Array(2), [2], 'i', 'int64')).toThrow(/cannot hold int64/);
  });
});

describe('GraphBuilder external data', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('moves large initializers to the data file and onnxruntime loads the model by path', async () => {
    const g = new GraphBuilder('ext');
    const ids = g.input('ids', 'int64', ['n']);
    const table = Float32Array.from({ length: 1000 * 4 }, (_, i) => i * 0.25);
    const t = g.constant(table, [1000, 4], 'big_table');
    const small = g.constant(Float32Array.from([1, 1, 1, 1]), [4], 'small');
    const second = g.constant(
      Float32Array.from({ length: 300 }, (_, i) => -i),
      [300],
      'second_table',
    );
    const rows = g.op('Add', [g.op('Gather', [t, ids], { axis: 0 }), small]);
    g.output(rows, 'rows', 'float32', ['n', 4]);
    g.output(g.op('ReduceSum', [second], { keepdims: 0 }), 'total', 'float32', []);
    const files = g.toModelFiles({ externalData: { location: 'model.onnx_data', minBytes: 1024 } });
    expect(files.externalData.length).toBeGreaterThanOrEqual(table.byteLength + 300 * 4);
    expect(files.model.length).toBeLessThan(2048);
    const again = g.toModelFiles({ externalData: { location: 'model.onnx_data', minBytes: 1024 } });
    expect(Buffer.from(again.model).equals(Buffer.from(files.model))).toBe(true);
    expect(Buffer.from(again.externalData).equals(Buffer.from(files.externalData))).toBe(true);

    const dir = await mkdtemp(join(tmpdir(), 'onnx-ext-'));
    dirs.push(dir);
    await writeFile(join(dir, 'model.onnx'), files.model);
    await writeFile(join(dir, 'model.onnx_data'), files.externalData);
    expect((await readFile(join(dir, 'model.onnx'))).includes(Buffer.from('model.onnx_data'))).toBe(true);
    const out = await run(join(dir, 'model.onnx'), {
      ids: new ort.Tensor('int64', BigInt64Array.from([999n, 2n]), [2]),
    });
    expectClose(out.rows.data as Float32Array, [
      ...[0, 1, 2, 3].map((j) => (999 * 4 + j) * 0.25 + 1),
      ...[0, 1, 2, 3].map((j) => (2 * 4 + j) * 0.25 + 1),
    ]);
    expectClose(out.total.data as Float32Array, [-(299 * 300) / 2]);
  });
});
