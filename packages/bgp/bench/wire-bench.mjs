#!/usr/bin/env node
// Runs the wire codec benchmark: compiles wire-bench.ts (and the codec it imports) with the
// repository's tsc into .tmp/wire-bench, then runs it. Writes bench/results/bgp-wire.json.
// Usage from the repository root: `node packages/bgp/bench/wire-bench.mjs [--prefixes N] [--runs R]`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const c = spawnSync(process.execPath, [tsc, '-p', `${here}wire-bench.tsconfig.json`], { stdio: 'inherit' });
if (c.status !== 0) process.exit(c.status ?? 1);
const r = spawnSync(
  process.execPath,
  ['--expose-gc', `${root}.tmp/wire-bench/bench/wire-bench.js`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
