// RIB benchmark: N IPv4 prefixes from one eBGP peer through Adj-RIB-In (import rules) -> Loc-RIB
// (decision process) -> Adj-RIB-Out (export rules, packing) towards one other eBGP peer.
// Reports time and bytes per prefix (heap + ArrayBuffers, after gc), writes
// bench/results/bgp-rib.json. Run: `node packages/bgp/bench/rib-bench.mjs [--prefixes N]
// [--per-update K] [--attr-sets S]`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createExporter, createImporter, type LocalSpeaker } from '../src/policy/rules.js';
import { AdjRibIn } from '../src/rib/adj-rib-in.js';
import { AdjRibOut } from '../src/rib/adj-rib-out.js';
import { LocRib } from '../src/rib/loc-rib.js';
import { v4Key } from '../src/rib/prefix.js';
import type { PathAttributes } from '../src/wire/types.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (use rib-bench.mjs)');

function mem(): { heap: number; buffers: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

interface Scenario {
  readonly name: string;
  readonly prefixes: number;
  /** Prefixes per UPDATE. */
  readonly perUpdate: number;
  /** Distinct attribute sets (AS paths) across the table. */
  readonly attrSets: number;
}

/** The attributes of UPDATE number `j`: a fresh object each time, as a decoder would produce. */
function attrsOf(j: number): PathAttributes {
  return {
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 3356 + (j % 7), 1000 + (j % 5000), 200000 + j] }],
    nextHop: '192.0.2.1',
    ...(j % 3 === 0 ? { communities: [((3356 << 16) | (j % 100)) >>> 0] } : {}),
  };
}

function makeInput(s: Scenario): { keys: Float64Array } {
  // distinct prefixes: mostly /24 with some /22 and /20, spread over the unicast space
  const keys = new Float64Array(s.prefixes);
  let x = 0x9e3779b9;
  const seen = new Set<number>();
  for (let i = 0; i < s.prefixes; ) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const r = x % 10;
    const len = r < 8 ? 24 : r < 9 ? 22 : 20;
    const addr = (((x >>> 8) << 8) & (0xffffffff << (32 - len))) >>> 0;
    if (addr < 0x01000000 || addr >= 0xe0000000) continue;
    const k = v4Key(addr, len);
    if (seen.has(k)) continue;
    seen.add(k);
    keys[i++] = k;
  }
  return { keys };
}

function run(s: Scenario): Record<string, number | string> {
  const input = makeInput(s);
  const local: LocalSpeaker = { asn: 64512, routerId: '10.0.0.1' };
  const before = mem();
  const t0 = performance.now();
  const rib = new LocRib();
  const a = rib.addPeer({ name: 'a', address: '192.0.2.1', routerId: '192.0.2.1', asn: 65001, type: 'ebgp' });
  const b = rib.addPeer({ name: 'b', address: '198.51.100.1', routerId: '198.51.100.1', asn: 65002, type: 'ebgp' });
  const inA = new AdjRibIn(rib, a, createImporter({ local, peer: a }));
  const outB = new AdjRibOut(rib, b, createExporter({ local, peer: b, localAddress: '198.51.100.2' }));
  outB.markAll();
  const { keys } = input;
  let u = 0;
  for (let i = 0; i < keys.length; i += s.perUpdate) {
    inA.update(attrsOf(u++ % s.attrSets), keys.subarray(i, Math.min(keys.length, i + s.perUpdate)));
  }
  const t1 = performance.now();
  let batches = outB.takeBatches();
  const t2 = performance.now();
  let sent = 0;
  for (const bt of batches) sent += bt.announced.length;
  const batchCount = batches.length;
  batches = [];
  const after = mem();
  const heap = after.heap - before.heap;
  const buffers = after.buffers - before.buffers;
  if (rib.size !== s.prefixes || outB.size !== s.prefixes || sent !== s.prefixes)
    throw new Error(`bench lost prefixes: rib ${rib.size}, out ${outB.size}, sent ${sent}, want ${s.prefixes}`);
  // keep everything alive until measured
  if (inA.size !== s.prefixes) throw new Error('adj-rib-in size');
  return {
    scenario: s.name,
    prefixes: s.prefixes,
    prefixesPerUpdate: s.perUpdate,
    attributeSets: rib.registry.size,
    ingestMs: Math.round(t1 - t0),
    advertiseMs: Math.round(t2 - t1),
    totalMs: Math.round(t2 - t0),
    batches: batchCount,
    heapBytesPerPrefix: Math.round((heap / s.prefixes) * 10) / 10,
    arrayBufferBytesPerPrefix: Math.round((buffers / s.prefixes) * 10) / 10,
    bytesPerPrefix: Math.round(((heap + buffers) / s.prefixes) * 10) / 10,
  };
}

const n = arg('prefixes', 1_000_000);
const scenarios: Scenario[] = [
  { name: 'packed (500 prefixes per UPDATE, 2000 attribute sets)', prefixes: n, perUpdate: 500, attrSets: 2000 },
  {
    name: 'full-table-like (3 prefixes per UPDATE, ~330k attribute sets)',
    prefixes: n,
    perUpdate: arg('per-update', 3),
    attrSets: arg('attr-sets', Math.ceil(n / 3)),
  },
];
const results = scenarios.map((s) => {
  const r = run(s);
  console.log(JSON.stringify(r));
  return r;
});
const out = {
  bench: 'bgp-rib',
  description: 'IPv4 prefixes from one eBGP peer through AdjRibIn -> LocRib -> AdjRibOut to another eBGP peer',
  node: process.version,
  date: new Date().toISOString(),
  results,
};
const dir = new URL('../../../bench/results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('bgp-rib.json', dir), `${JSON.stringify(out, null, 2)}\n`);
