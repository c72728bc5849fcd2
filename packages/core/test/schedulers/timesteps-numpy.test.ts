import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DDIMInverseScheduler, DDIMScheduler } from '@diffedit/core';

/*
 * Every N in 1..1000 against numpy (fixtures/make_timesteps.py): count, sum, sum of squares, index-weighted sum
 * and minimum of the lists diffusers builds. Where numpy yields a negative timestep ('trailing' for some N)
 * we must refuse instead.
 */
type Digest = [number, number, number, number, number];
interface Fixture {
  T: number;
  trailing: Record<string, Digest>;
  linspace: Record<string, Digest>;
  inverse_trailing: Record<string, Digest>;
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/timesteps-numpy.json', import.meta.url), 'utf8'),
) as Fixture;

function digest(ts: readonly number[]): Digest {
  let sum = 0;
  let sq = 0;
  let weighted = 0;
  ts.forEach((t, i) => {
    sum += t;
    sq += t * t;
    weighted += i * t;
  });
  return [ts.length, sum, sq, weighted, Math.min(...ts)];
}

const base = { num_train_timesteps: fixture.T, steps_offset: 1 };

describe('timestep spacing for every N against numpy', () => {
  it.each([
    ['trailing', 'forward'],
    ['linspace', 'forward'],
    ['trailing', 'inverse'],
  ] as const)('%s (%s)', (spacing, direction) => {
    const table = direction === 'inverse' ? fixture.inverse_trailing : fixture[spacing];
    const s =
      direction === 'inverse'
        ? DDIMInverseScheduler.fromConfig({ ...base, timestep_spacing: spacing })
        : DDIMScheduler.fromConfig({ ...base, timestep_spacing: spacing });
    let refused = 0;
    for (let n = 1; n <= fixture.T; n++) {
      const expected = table[String(n)];
      if (expected[4] < 0) {
        expect(() => s.setTimesteps(n), `N=${n}`).toThrow(/negative timestep/);
        refused++;
      } else {
        expect(digest(s.setTimesteps(n)), `N=${n}`).toEqual(expected);
      }
    }
    if (spacing === 'trailing') expect(refused).toBe(62);
    else expect(refused).toBe(0);
  });
});
