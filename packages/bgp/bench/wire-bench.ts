// Wire codec benchmark: 1M IPv4 prefixes arriving as a TCP-like byte stream of UPDATEs, framed
// and decoded (fast path: packed prefixes + raw attribute bytes; and the object path that
// decodeMessage gives), plus encoding with encodeUpdates. Writes bench/results/bgp-wire.json.
// Run: `node packages/bgp/bench/wire-bench.mjs [--prefixes N] [--runs R]`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  DEFAULT_CODEC_OPTIONS,
  decodeMessage,
  decodeUpdateFast,
  encodeUpdates,
  MessageFramer,
  type Nlri,
  type PathAttributes,
  type SessionCodecOptions,
} from '../src/wire/index.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const N = arg('prefixes', 1_000_000);
const RUNS = arg('runs', 5);
const gc = (globalThis as { gc?: () => void }).gc;
const opts: SessionCodecOptions = { ...DEFAULT_CODEC_OPTIONS, fourOctetAs: true };

/** N distinct prefixes: mostly /24, some /22 and /20 and /16, spread over the unicast space. */
function makePrefixes(n: number): Nlri[] {
  const out: Nlri[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % 20;
    const length = r < 14 ? 24 : r < 17 ? 22 : r < 19 ? 20 : 16;
    // i-th /24 slot from 1.0.0.0, masked to its length (distinct because the slot encodes i)
    const base = (1 << 24) + i * 256;
    const addr = (base & (0xffffffff << (32 - length))) >>> 0;
    out.push({ prefix: { family: 'ipv4-unicast', addr: length === 24 ? base >>> 0 : addr, length } });
  }
  // keep them distinct when masking collapsed some: fall back to /24 there
  const seen = new Set<number>();
  return out.map((x, i) => {
    const key = (x.prefix.addr as number) * 64 + x.prefix.length;
    if (!seen.has(key)) {
      seen.add(key);
      return x;
    }
    const addr = ((1 << 24) + i * 256) >>> 0;
    seen.add(addr * 64 + 24);
    return { prefix: { family: 'ipv4-unicast', addr, length: 24 } };
  });
}

function attrSet(k: number): PathAttributes {
  return {
    origin: 0,
    asPath: [{ type: 2, asns: [64512 + (k % 1000), 4200000000 + (k % 77), 65000 + (k % 13), 3356] }],
    med: k % 100,
    communities: [65000 * 65536 + (k % 500), 65000 * 65536 + 1],
    largeCommunities: [{ global: 4200000001, local1: k % 7, local2: 1 }],
  };
}

/** The UPDATE stream for a scenario, as 64 KiB chunks like socket reads. */
function buildStream(prefixes: Nlri[], perUpdate: number): { chunks: Uint8Array[]; updates: number; bytes: number } {
  const msgs: Uint8Array[] = [];
  for (let i = 0, k = 0; i < prefixes.length; i += perUpdate, k++)
    msgs.push(...encodeUpdates(attrSet(k), prefixes.slice(i, i + perUpdate), 'ipv4-unicast', '192.0.2.1', opts));
  const total = msgs.reduce((n, m) => n + m.length, 0);
  const all = new Uint8Array(total);
  let p = 0;
  for (const m of msgs) {
    all.set(m, p);
    p += m.length;
  }
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < total; i += 65536) chunks.push(all.slice(i, i + 65536));
  return { chunks, updates: msgs.length, bytes: total };
}

function time(f: () => number): { ms: number; check: number } {
  gc?.();
  const t0 = process.hrtime.bigint();
  const check = f();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, check };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const prefixes = makePrefixes(N);
const scenarios = [
  { name: 'packed: all prefixes of an attribute set in full 4096-byte UPDATEs', perUpdate: 1000 },
  { name: 'feed-like: 10 prefixes per UPDATE, one attribute set each', perUpdate: 10 },
];

const results = scenarios.map((s) => {
  const { chunks, updates, bytes } = buildStream(prefixes, s.perUpdate);
  const fast = (): number => {
    const f = new MessageFramer();
    let count = 0;
    let attrBytes = 0;
    for (const c of chunks) {
      f.push(c);
      for (let m = f.next(); m !== undefined; m = f.next()) {
        const u = decodeUpdateFast(m, opts);
        count += u.nlri.length;
        attrBytes += u.rawAttributes.length;
      }
    }
    return count + attrBytes * 0;
  };
  const objects = (): number => {
    const f = new MessageFramer();
    let count = 0;
    for (const c of chunks) {
      f.push(c);
      for (let m = f.next(); m !== undefined; m = f.next()) {
        const r = decodeMessage(m, opts);
        if (r.kind === 'message' && r.message.type === 2) count += r.message.nlri.length;
      }
    }
    return count;
  };
  const encode = (): number => {
    let n = 0;
    for (let i = 0, k = 0; i < prefixes.length; i += s.perUpdate, k++)
      n += encodeUpdates(attrSet(k), prefixes.slice(i, i + s.perUpdate), 'ipv4-unicast', '192.0.2.1', opts).length;
    return n;
  };
  const measure = (f: () => number, expect: number) => {
    f(); // warm-up
    const ms: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = time(f);
      if (t.check !== expect) throw new Error(`${s.name}: counted ${t.check}, expected ${expect}`);
      ms.push(t.ms);
    }
    return { medianMs: Math.round(median(ms) * 10) / 10, bestMs: Math.round(Math.min(...ms) * 10) / 10 };
  };
  const decodeFast = measure(fast, N);
  const decodeObjects = measure(objects, N);
  const encodeMs = measure(encode, updates);
  const r = {
    scenario: s.name,
    prefixes: N,
    updates,
    streamBytes: bytes,
    decodeFast: { ...decodeFast, prefixesPerSecond: Math.round(N / (decodeFast.medianMs / 1000)) },
    decodeMessage: { ...decodeObjects, prefixesPerSecond: Math.round(N / (decodeObjects.medianMs / 1000)) },
    encodeUpdates: { ...encodeMs, prefixesPerSecond: Math.round(N / (encodeMs.medianMs / 1000)) },
  };
  console.log(JSON.stringify(r));
  return r;
});

const out = {
  bench: 'bgp-wire',
  description:
    'IPv4 prefixes in UPDATEs as a 64 KiB-chunked byte stream: MessageFramer + decodeUpdateFast (packed prefixes, raw attribute bytes), MessageFramer + decodeMessage (Nlri objects), and encodeUpdates. 4-octet AS session, 4096-byte messages. Target: about BIRD, ~0.5 s for 1M prefixes.',
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  runs: RUNS,
  date: new Date().toISOString(),
  results,
};
const dir = new URL('../../../bench/results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('bgp-wire.json', dir), `${JSON.stringify(out, null, 2)}\n`);
