#!/usr/bin/env node
// Runs every package's `bench` script; each writes its results under bench/results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync(new URL('../bench/results/', import.meta.url), { recursive: true });
const r = spawnSync(
  'pnpm',
  ['-r', '--if-present', '--workspace-concurrency=1', 'run', 'bench', ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 1);
