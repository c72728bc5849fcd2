export { SeededRng } from './seeded-rng.js';
export type { Seed, StreamId, RngState } from './seeded-rng.js';
export { deterministicLog } from './det-log.js';
