#!/usr/bin/env node
// `pnpm bench` for @tortie/bgp: the RIB and wire micro-benchmarks, then the device-under-test
// benchmark against BIRD (root, after `pnpm build`). Each writes its file under bench/results/
// (bgp-rib.json, bgp-wire.json, bgp.json). Arguments go to dut-bench.mjs, e.g.
// `pnpm --filter @tortie/bgp bench --n 1000000 --runs 3`.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const load = loadavg()[0];
if (load > cpus().length * 0.5)
  console.error(`bench: load average ${load.toFixed(2)} on ${cpus().length} cores: numbers will be noisy`);
for (const [script, args] of [
  ['rib-bench.mjs', []],
  ['wire-bench.mjs', []],
  ['dut-bench.mjs', process.argv.slice(2)],
]) {
  console.error(`bench: ${script} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [`${here}${script}`, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
