#!/usr/bin/env node
// Device-under-test benchmark (run as root, after `pnpm build`):
//
//   node packages/bgp/bench/dut-bench.mjs [--n 100000,1000000] [--duts tortie,bird] [--cpu-prof DIR]
//
// In network namespaces, a feeder session sends N distinct IPv4 /24s to the DUT, which re-advertises
// them to a sink session (both eBGP; feeder and sink live in one lean process, dut-tester.mjs, so one
// clock times both ends). Measured: seconds from the first UPDATE written to the sink holding all N,
// the same for withdrawing them all, the DUT's CPU seconds (/proc/PID/stat) and peak RSS (VmHWM).
// The feeder and sink are also timed back to back with no DUT, to show they are not the bottleneck.
// Results go to bench/results/bgp.json; a Markdown table is printed for the package README.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const TESTER = join(here, 'dut-tester.mjs');
const BGPD_DEFAULT = join(here, '../dist/daemon/main.js');

const opts = {};
for (let i = 2; i < process.argv.length; i += 2) opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const SIZES = (opts.n ?? '100000,1000000').split(',').map(Number);
const DUTS = (opts.duts ?? 'tortie,bird').split(',');
const RUNS = Number(opts.runs ?? 1);
// feed shapes (dut-tester --shape): packed (one attribute set, ~1000 prefixes per UPDATE) and
// distinct (4 prefixes per UPDATE, each UPDATE with its own AS path)
const SHAPES = (opts.shapes ?? 'packed,distinct').split(',');
// --bgpd PATH: another build of tortie-bgpd (A/B comparisons); results are then not recorded
const BGPD = opts.bgpd ?? BGPD_DEFAULT;

if (process.getuid?.() !== 0) {
  console.error('dut-bench: needs root (network namespaces)');
  process.exit(1);
}
if (!existsSync(BGPD)) {
  console.error(`dut-bench: ${BGPD} not found: run \`pnpm build\` first`);
  process.exit(1);
}
// the test kit's Lab, from its build (pnpm build)
const { Lab } = await import('@tortie/testkit').catch((e) => {
  console.error(`dut-bench: cannot load @tortie/testkit (run \`pnpm build\` first): ${e.message}`);
  process.exit(1);
});

function runTester(ns, args) {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns.name, process.execPath, TESTER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 600_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()));
      else reject(new Error(`dut-tester failed (${code}):\n${err}`));
    });
  });
}

function birdConf() {
  return `router id 10.0.1.2;
log stderr { warning, error, fatal };
protocol device { }
protocol bgp feeder {
  local 10.0.1.2 as 65000; neighbor 10.0.1.1 as 65001; passive on; hold time 240;
  ipv4 { import all; export all; };
}
protocol bgp sink {
  local 10.0.2.2 as 65000; neighbor 10.0.2.1 as 65003; passive on; hold time 240;
  ipv4 { import all; export all; };
}
`;
}

function tortieConf() {
  return JSON.stringify({
    routerId: '10.0.1.2',
    asn: 65000,
    listen: { address: '0.0.0.0', port: 179 },
    logLevel: 'warn',
    neighbors: [
      { address: '10.0.1.1', asn: 65001, passive: true, holdTime: 240, families: ['ipv4-unicast'] },
      { address: '10.0.2.1', asn: 65003, passive: true, holdTime: 240, families: ['ipv4-unicast'] },
    ],
  });
}

async function runOne(dut, n, shape) {
  const lab = await Lab.create();
  try {
    return await runOneIn(lab, dut, n, shape);
  } finally {
    await lab.dispose();
  }
}

async function runOneIn(lab, dut, n, shape) {
  const t = await lab.namespace('tester');
  const d = await lab.namespace('dut');
  await lab.veth(t, 'f0', d, 'f1', { aAddress: '10.0.1.1/24', bAddress: '10.0.1.2/24' });
  await lab.veth(t, 's0', d, 's1', { aAddress: '10.0.2.1/24', bAddress: '10.0.2.2/24' });
  const dir = mkdtempSync(join(tmpdir(), `tortie-dutbench-${dut}-`));
  let proc;
  if (dut === 'bird') {
    writeFileSync(join(dir, 'bird.conf'), birdConf());
    proc = d.spawn('/usr/sbin/bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl')]);
  } else {
    writeFileSync(join(dir, 'bgpd.json'), tortieConf());
    const prof = opts['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', opts['cpu-prof']] : [];
    const flags = opts['node-flags'] ? opts['node-flags'].split(' ').filter(Boolean) : [];
    proc = d.spawn(process.execPath, [...flags, ...prof, BGPD, '--config', join(dir, 'bgpd.json')]);
  }
  await new Promise((r) => setTimeout(r, 500));
  if (proc.exited) throw new Error(`${dut} exited at start:\n${proc.output}`);
  const r = await runTester(t, [
    '--mode',
    'dut',
    '--shape',
    shape,
    '--n',
    String(n),
    '--dut-pid',
    String(proc.pid),
    '--feeder-local',
    '10.0.1.1',
    '--feeder-remote',
    '10.0.1.2',
    '--sink-local',
    '10.0.2.1',
    '--sink-remote',
    '10.0.2.2',
    '--feeder-asn',
    '65001',
    '--sink-asn',
    '65003',
  ]);
  await proc.stop(10_000);
  return { dut, ...r };
}

async function runLoop(n, shape) {
  const lab = await Lab.create();
  try {
    const t = await lab.namespace('tester');
    return {
      dut: 'none (feeder -> sink)',
      ...(await runTester(t, ['--mode', 'loop', '--shape', shape, '--n', String(n)])),
    };
  } finally {
    await lab.dispose();
  }
}

function best(rs) {
  // the run with the smallest announce + withdraw time; every run is kept alongside
  const b = rs.reduce((a, c) =>
    a.announceSeconds + a.withdrawSeconds <= c.announceSeconds + c.withdrawSeconds ? a : c,
  );
  return rs.length === 1
    ? b
    : {
        ...b,
        allRuns: rs.map((r) => ({
          announceSeconds: r.announceSeconds,
          withdrawSeconds: r.withdrawSeconds,
          dutCpuSeconds: r.dutCpuSeconds,
          dutRssKiB: r.dutRssKiB,
        })),
      };
}

const results = [];
for (const shape of SHAPES) {
  for (const n of SIZES) {
    const loops = [];
    for (let i = 0; i < RUNS; i++) loops.push(await runLoop(n, shape));
    results.push(best(loops));
    console.error(`${shape} n=${n} no DUT: ${JSON.stringify(best(loops))}`);
    // DUTs alternate run by run, so a busy spell on the shared machine hits both alike
    const rs = new Map(DUTS.map((d) => [d, []]));
    for (let i = 0; i < RUNS; i++) for (const dut of DUTS) rs.get(dut).push(await runOne(dut, n, shape));
    for (const dut of DUTS) {
      results.push(best(rs.get(dut)));
      console.error(`${shape} n=${n} ${dut}: ${JSON.stringify(best(rs.get(dut)))}`);
    }
  }
}

const ratios = [];
for (const shape of SHAPES)
  for (const n of SIZES) {
    const t = results.find((r) => r.dut === 'tortie' && r.n === n && r.shape === shape);
    const b = results.find((r) => r.dut === 'bird' && r.n === n && r.shape === shape);
    if (!t || !b) continue;
    ratios.push({
      shape,
      n,
      announceTortieOverBird: t.announceSeconds / b.announceSeconds,
      withdrawTortieOverBird: t.withdrawSeconds / b.withdrawSeconds,
      cpuTortieOverBird:
        (t.dutCpuSeconds.announce + t.dutCpuSeconds.withdraw) / (b.dutCpuSeconds.announce + b.dutCpuSeconds.withdraw),
      peakRssTortieOverBird: t.dutRssKiB.peak / b.dutRssKiB.peak,
      bytesPerPrefixTortie: ((t.dutRssKiB.loaded - t.dutRssKiB.beforeLoad) * 1024) / n,
      bytesPerPrefixBird: ((b.dutRssKiB.loaded - b.dutRssKiB.beforeLoad) * 1024) / n,
    });
  }

const sh = (f, a) => {
  const r = spawnSync(f, a, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || 'unknown';
};
const machine = {
  hostname: hostname(),
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  kernel: release(),
  node: process.version,
  bird: sh('/usr/sbin/bird', ['--version']),
};
const out = {
  date: new Date().toISOString(),
  machine,
  note: `best of ${RUNS} run(s) per row (smallest announce + withdraw time); 2 cores shared with other work, so numbers are noisy`,
  runs: RUNS,
  results,
  ratios,
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
// a profiling run or a partial one (one DUT) does not replace the recorded results
if (!opts['cpu-prof'] && !opts.bgpd && DUTS.includes('tortie') && DUTS.includes('bird'))
  writeFileSync(join(root, 'bench/results/bgp.json'), `${JSON.stringify({ bench: 'bgp-dut', ...out }, null, 2)}\n`);
else console.error('(partial or profiling run: bench/results/bgp.json left as it was)');

const f = (x, d = 2) => (x === undefined || x === null ? '-' : x.toFixed(d));
const lines = [
  `| feed | DUT | N | announce s | withdraw s | DUT CPU s | DUT peak RSS MiB | bytes/prefix (loaded − idle RSS) |`,
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.shape} | ${r.dut} | ${r.n} | ${f(r.announceSeconds, 3)} | ${f(r.withdrawSeconds, 3)} | ${
        r.dutCpuSeconds ? f(r.dutCpuSeconds.announce + r.dutCpuSeconds.withdraw) : '-'
      } | ${r.dutRssKiB ? f(r.dutRssKiB.peak / 1024, 1) : '-'} | ${
        r.dutRssKiB ? f(((r.dutRssKiB.loaded - r.dutRssKiB.beforeLoad) * 1024) / r.n, 0) : '-'
      } |`,
  ),
];
console.log(lines.join('\n'));
if (ratios.length) console.log(`\nratios (tortie / bird): ${JSON.stringify(ratios, null, 1)}`);
console.log(`\n${out.date} on ${machine.cpu} (${machine.cores} cores), Linux ${machine.kernel}, Node ${machine.node}`);
