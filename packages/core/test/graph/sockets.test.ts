import { describe, expect, it } from 'vitest';

import {
  convertSocketValue,
  isSocketCompatible,
  resolveSocketConnection,
  SOCKET_TYPES,
} from '@diffedit/core';

describe('socket compatibility', () => {
  it('allows exact matches and the declared conversions only', () => {
    for (const type of SOCKET_TYPES) expect(isSocketCompatible(type, type)).toBe(true);
    expect(isSocketCompatible('TEXT', 'TEXT_LIST')).toBe(true);
    expect(isSocketCompatible('INT', 'NUMBER')).toBe(true);
    expect(isSocketCompatible('NUMBER', 'INT')).toBe(false);
    expect(isSocketCompatible('TEXT_LIST', 'TEXT')).toBe(false);
    expect(isSocketCompatible('IMAGE', 'MASK')).toBe(false);
    expect(isSocketCompatible('LATENTS', 'INVERTED_LATENTS')).toBe(false);
    expect(isSocketCompatible('DIFFUSION_MODEL', 'T5_MODEL')).toBe(false);
  });

  it('accepts several types per input, preferring an exact match over a conversion', () => {
    expect(isSocketCompatible('EMBEDDING', ['TEXT', 'EMBEDDING'])).toBe(true);
    expect(isSocketCompatible('IMAGE', ['TEXT', 'EMBEDDING'])).toBe(false);
    expect(resolveSocketConnection('TEXT', ['TEXT_LIST', 'TEXT'])).toBe('TEXT');
    expect(resolveSocketConnection('TEXT', ['TEXT_LIST'])).toBe('TEXT_LIST');
    expect(resolveSocketConnection('IMAGE', 'ANY')).toBe('ANY');
  });

  it('wraps a TEXT in a one-item list when it feeds a TEXT_LIST', () => {
    expect(convertSocketValue('TEXT', 'TEXT_LIST', 'a cat')).toEqual(['a cat']);
    expect(convertSocketValue('INT', 'NUMBER', 3)).toBe(3);
  });
});
