// Negative control: a Node-only import the bundle check must catch.
import { readFileSync } from 'node:fs';

export const read = readFileSync;
