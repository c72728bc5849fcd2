import { describe, expect, it } from 'vitest';

import { describeValue, Tensor } from '@diffedit/core';

describe('describeValue', () => {
  it('summarises values for node:done events without dumping data', () => {
    expect(describeValue(new Tensor([1, 4, 8, 8], new Float32Array(256)))).toBe('Tensor[1×4×8×8]');
    expect(describeValue({ shape: [2, 3], data: new Float32Array(6) })).toBe('object[2×3]');
    expect(describeValue(new Uint8Array(12))).toBe('Uint8Array(12)');
    expect(describeValue(['a', 'b', 'c', 'd'])).toBe('["a", "b", "c", … 4 items]');
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(77)}"…`);
    expect(describeValue(2.5)).toBe('2.5');
  });
});
