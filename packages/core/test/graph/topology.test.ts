import { describe, expect, it } from 'vitest';

import { findCycles, topologicalOrder, upstreamOf } from '@diffedit/core';

const chain = (length: number) => {
  const ids = Array.from({ length }, (_, i) => `n${i}`);
  return { ids, deps: ids.slice(1).map((to, i) => ({ from: ids[i], to })) };
};

describe('graph topology', () => {
  it('orders a 20 000-node chain and finds no cycle in it without overflowing the stack', () => {
    const { ids, deps } = chain(20_000);
    expect(findCycles(ids, deps)).toEqual([]);
    expect(topologicalOrder([...ids].reverse(), deps)).toEqual(ids);
    expect(findCycles(ids, [...deps, { from: 'n19999', to: 'n0' }])).toEqual([ids]);
  });

  it('finds every cycle, each in document order, and self-loops', () => {
    const deps = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
      { from: 'c', to: 'd' },
      { from: 'e', to: 'f' },
      { from: 'f', to: 'e' },
      { from: 's', to: 's' },
    ];
    expect(findCycles(['s', 'd', 'c', 'b', 'a', 'f', 'e'], deps)).toEqual([
      ['s'],
      ['c', 'b', 'a'],
      ['f', 'e'],
    ]);
  });

  it('collects what the targets need, stopping at nodes the caller marks (cached ones)', () => {
    const deps = [
      { from: 'x', to: 'add' },
      { from: 'y', to: 'add' },
      { from: 'add', to: 'sink' },
      { from: 'z', to: 'other' },
    ];
    expect([...upstreamOf(['sink'], deps)].sort()).toEqual(['add', 'sink', 'x', 'y']);
    const asked: string[] = [];
    const reached = upstreamOf(['sink'], deps, (id) => {
      asked.push(id);
      return id === 'add';
    });
    expect([...reached].sort()).toEqual(['add', 'sink']);
    expect(asked).toEqual(['sink', 'add']);
  });
});
