#!/usr/bin/env node
// Runs the RIB benchmark: compiles rib-bench.ts (and the RIB/policy sources it imports) with the
// repository's tsc into .tmp/rib-bench, then runs it with --expose-gc. Arguments are passed on
// (e.g. `node packages/bgp/bench/rib-bench.mjs --prefixes 200000`).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const c = spawnSync(process.execPath, [tsc, '-p', `${here}rib-bench.tsconfig.json`], { stdio: 'inherit' });
if (c.status !== 0) process.exit(c.status ?? 1);
const r = spawnSync(
  process.execPath,
  ['--expose-gc', '--max-old-space-size=4096', `${root}.tmp/rib-bench/bench/rib-bench.js`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
