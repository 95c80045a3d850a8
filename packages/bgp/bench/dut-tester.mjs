#!/usr/bin/env node
// Feeder and sink for the device-under-test benchmark, in one lean process (one clock).
//
//   --n N                      distinct IPv4 /24 prefixes (from 20.0.0.0/24 up)
//   --mode dut|loop            dut: feeder and sink each peer with the DUT; loop: feeder -> sink directly
//   --feeder-local A --feeder-remote B --sink-local C --sink-remote D   (dut mode)
//   --feeder-asn --sink-asn --dut-asn                                   (dut mode)
//   --dut-pid PID              CPU and memory of this process are sampled per phase
//   --shape packed|distinct    packed (default): one attribute set, as many prefixes per UPDATE as
//                              fit (~1000); distinct: 4 prefixes per UPDATE, each UPDATE with its
//                              own AS path (origin AS 100000 + UPDATE number), like a full table
//                              where few prefixes share a path
//
// UPDATEs are pre-encoded before the clock starts: the feeder only writes buffers, the sink only
// walks NLRI and withdrawn fields into a bitmap. Prints one JSON line with the results.
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

const args = parseArgs(process.argv.slice(2));
const N = Number(args.n ?? 100000);
const MODE = args.mode ?? 'dut';
const FIRST = (20 << 24) >>> 8; // 20.0.0.0/24 as a /24 index
const HOLD = 240;
const SHAPE = args.shape ?? 'packed';
if (SHAPE !== 'packed' && SHAPE !== 'distinct') {
  process.stderr.write(`dut-tester: --shape must be packed or distinct, got ${SHAPE}\n`);
  process.exit(2);
}

function parseArgs(a) {
  const o = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith('--')) o[a[i].slice(2)] = a[i + 1];
    i++;
  }
  return o;
}

const log = (...m) => process.stderr.write(`${m.join(' ')}\n`);

// ---- encoding ----
const MARKER = Buffer.alloc(16, 0xff);
function header(buf, len, type) {
  MARKER.copy(buf, 0);
  buf.writeUInt16BE(len, 16);
  buf[18] = type;
}
function open(asn, routerId) {
  // caps: MP ipv4-unicast, route refresh, 4-octet AS
  const caps = Buffer.from([
    2,
    6,
    1,
    4,
    0,
    1,
    0,
    1,
    2,
    2,
    2,
    0,
    2,
    6,
    65,
    4,
    (asn >>> 24) & 255,
    (asn >>> 16) & 255,
    (asn >>> 8) & 255,
    asn & 255,
  ]);
  const len = 19 + 10 + caps.length;
  const b = Buffer.alloc(len);
  header(b, len, 1);
  b[19] = 4;
  b.writeUInt16BE(asn > 65535 ? 23456 : asn, 20);
  b.writeUInt16BE(HOLD, 22);
  routerId.split('.').forEach((o, i) => {
    b[24 + i] = Number(o);
  });
  b[28] = caps.length;
  caps.copy(b, 29);
  return b;
}
const KEEPALIVE = (() => {
  const b = Buffer.alloc(19);
  header(b, 19, 4);
  return b;
})();

function ipBytes(ip) {
  return ip.split('.').map(Number);
}

/**
 * Announce UPDATEs with distinct attributes: ORIGIN IGP, AS_PATH [asn, 100000 + u] (4-octet),
 * NEXT_HOP nh; 4 NLRI each.
 */
function distinctUpdates(n, asn, nh) {
  const per = 4;
  const out = [];
  for (let i = 0, u = 0; i < n; i += per, u++) {
    const origin = 100000 + u;
    const attrs = Buffer.from([
      0x40,
      1,
      1,
      0,
      0x40,
      2,
      10,
      2,
      2,
      (asn >>> 24) & 255,
      (asn >>> 16) & 255,
      (asn >>> 8) & 255,
      asn & 255,
      (origin >>> 24) & 255,
      (origin >>> 16) & 255,
      (origin >>> 8) & 255,
      origin & 255,
      0x40,
      3,
      4,
      ...ipBytes(nh),
    ]);
    const k = Math.min(per, n - i);
    const len = 23 + attrs.length + 4 * k;
    const b = Buffer.alloc(len);
    header(b, len, 2);
    b.writeUInt16BE(0, 19);
    b.writeUInt16BE(attrs.length, 21);
    attrs.copy(b, 23);
    let o = 23 + attrs.length;
    for (let j = 0; j < k; j++) {
      const p = FIRST + i + j;
      b[o++] = 24;
      b[o++] = (p >>> 16) & 255;
      b[o++] = (p >>> 8) & 255;
      b[o++] = p & 255;
    }
    out.push(b);
  }
  // many small UPDATEs: write them in 64 KiB chunks, as a router's socket would carry them
  const chunks = [];
  let cur = [];
  let size = 0;
  for (const b of out) {
    cur.push(b);
    size += b.length;
    if (size >= 65536) {
      chunks.push(Buffer.concat(cur));
      cur = [];
      size = 0;
    }
  }
  if (cur.length) chunks.push(Buffer.concat(cur));
  return chunks;
}

/** Announce UPDATEs: ORIGIN IGP, AS_PATH [asn] (4-octet), NEXT_HOP nh; up to 1013 NLRI each. */
function announceUpdates(n, asn, nh) {
  const attrs = Buffer.from([
    0x40,
    1,
    1,
    0,
    0x40,
    2,
    6,
    2,
    1,
    (asn >>> 24) & 255,
    (asn >>> 16) & 255,
    (asn >>> 8) & 255,
    asn & 255,
    0x40,
    3,
    4,
    ...ipBytes(nh),
  ]);
  const per = Math.floor((4096 - 23 - attrs.length) / 4);
  const out = [];
  for (let i = 0; i < n; i += per) {
    const k = Math.min(per, n - i);
    const len = 23 + attrs.length + 4 * k;
    const b = Buffer.alloc(len);
    header(b, len, 2);
    b.writeUInt16BE(0, 19);
    b.writeUInt16BE(attrs.length, 21);
    attrs.copy(b, 23);
    let o = 23 + attrs.length;
    for (let j = 0; j < k; j++) {
      const p = FIRST + i + j;
      b[o++] = 24;
      b[o++] = (p >>> 16) & 255;
      b[o++] = (p >>> 8) & 255;
      b[o++] = p & 255;
    }
    out.push(b);
  }
  return out;
}

function withdrawUpdates(n) {
  const per = Math.floor((4096 - 23) / 4);
  const out = [];
  for (let i = 0; i < n; i += per) {
    const k = Math.min(per, n - i);
    const len = 23 + 4 * k;
    const b = Buffer.alloc(len);
    header(b, len, 2);
    b.writeUInt16BE(4 * k, 19);
    let o = 21;
    for (let j = 0; j < k; j++) {
      const p = FIRST + i + j;
      b[o++] = 24;
      b[o++] = (p >>> 16) & 255;
      b[o++] = (p >>> 8) & 255;
      b[o++] = p & 255;
    }
    b.writeUInt16BE(0, o);
    out.push(b);
  }
  return out;
}

// ---- a minimal BGP peer ----
class Peer {
  constructor(name, sock, asn, routerId, onUpdate) {
    this.name = name;
    this.sock = sock;
    this.onUpdate = onUpdate;
    this.established = false;
    this.pending = null;
    this.waiters = [];
    sock.setNoDelay(true);
    sock.on('data', (d) => this.data(d));
    sock.on('error', (e) => fail(`${name}: ${e.message}`));
    sock.on('close', () => {
      if (!this.closing) fail(`${name}: connection closed by the other side`);
    });
    sock.write(open(asn, routerId));
    this.keepalive = setInterval(() => sock.write(KEEPALIVE), 20_000);
  }
  data(chunk) {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let o = 0;
    while (buf.length - o >= 19) {
      const len = (buf[o + 16] << 8) | buf[o + 17];
      if (buf.length - o < len) break;
      const type = buf[o + 18];
      if (type === 2) this.onUpdate(buf, o, len);
      else if (type === 1) this.sock.write(KEEPALIVE);
      else if (type === 4) {
        if (!this.established) {
          this.established = true;
          for (const w of this.waiters) w();
        }
      } else if (type === 3) fail(`${this.name}: NOTIFICATION ${buf[o + 19]}/${buf[o + 20]}`);
      o += len;
    }
    if (o < buf.length) this.pending = buf.subarray(o);
  }
  whenEstablished() {
    return this.established ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
  close() {
    this.closing = true;
    clearInterval(this.keepalive);
    this.sock.destroy();
  }
}

function fail(msg) {
  log(`dut-tester: ${msg}`);
  process.exit(1);
}

// ---- the sink's view: a bitmap of held /24s ----
const held = new Uint8Array(1 << 24);
let count = 0;
let target = -1;
let reached = null;
function sinkUpdate(buf, o, len) {
  const end = o + len;
  let p = o + 19;
  const wl = (buf[p] << 8) | buf[p + 1];
  p += 2;
  const wEnd = p + wl;
  while (p < wEnd) {
    const plen = buf[p++];
    const nb = (plen + 7) >> 3;
    let idx = 0;
    for (let i = 0; i < 3; i++) idx = (idx << 8) | (i < nb ? buf[p + i] : 0);
    p += nb;
    if (plen === 24 && held[idx]) {
      held[idx] = 0;
      count--;
    }
  }
  const al = (buf[p] << 8) | buf[p + 1];
  p += 2 + al;
  while (p < end) {
    const plen = buf[p++];
    const nb = (plen + 7) >> 3;
    let idx = 0;
    for (let i = 0; i < 3; i++) idx = (idx << 8) | (i < nb ? buf[p + i] : 0);
    p += nb;
    if (plen === 24 && !held[idx]) {
      held[idx] = 1;
      count++;
    }
  }
  if (count === target && reached) {
    const r = reached;
    reached = null;
    r(process.hrtime.bigint());
  }
}
function waitCount(n) {
  target = n;
  if (count === n) return Promise.resolve(process.hrtime.bigint());
  return new Promise((r) => {
    reached = r;
  });
}

// ---- DUT sampling ----
const TICK = 100; // USER_HZ on Linux
function cpu(pid) {
  if (!pid) return 0;
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
function mem(pid) {
  if (!pid) return { hwm: 0, rss: 0 };
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

function connect(local, remote, port) {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: remote, port, localAddress: local });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function connectRetry(local, remote, port) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await connect(local, remote, port);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function writeAll(sock, bufs) {
  for (const b of bufs) {
    if (!sock.write(b)) await new Promise((r) => sock.once('drain', r));
  }
}

const secs = (a, b) => Number(b - a) / 1e9;

async function main() {
  const tEnc = process.hrtime.bigint();
  const ann = (SHAPE === 'distinct' ? distinctUpdates : announceUpdates)(
    N,
    Number(args['feeder-asn'] ?? 65001),
    args['feeder-local'] ?? '127.0.0.1',
  );
  const wd = withdrawUpdates(N);
  log(`encoded ${ann.length} + ${wd.length} UPDATEs in ${secs(tEnc, process.hrtime.bigint()).toFixed(3)} s`);
  let feeder;
  let sink;
  if (MODE === 'loop') {
    const server = createServer();
    const accepted = new Promise((r) => server.once('connection', r));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;
    const fs = await connect('127.0.0.1', '127.0.0.1', port);
    const ss = await accepted;
    feeder = new Peer('feeder', fs, 65001, '192.0.2.1', () => {});
    sink = new Peer('sink', ss, 65003, '192.0.2.3', sinkUpdate);
    server.close();
  } else {
    const dutPort = Number(args['dut-port'] ?? 179);
    const ss = await connectRetry(args['sink-local'], args['sink-remote'], dutPort);
    sink = new Peer('sink', ss, Number(args['sink-asn'] ?? 65003), args['sink-local'], sinkUpdate);
    const fs = await connectRetry(args['feeder-local'], args['feeder-remote'], dutPort);
    feeder = new Peer('feeder', fs, Number(args['feeder-asn'] ?? 65001), args['feeder-local'], () => {});
  }
  await Promise.all([feeder.whenEstablished(), sink.whenEstablished()]);
  // let the DUT settle (initial End-of-RIB, timers)
  await new Promise((r) => setTimeout(r, Number(args.settle ?? 1000)));
  const pid = Number(args['dut-pid'] ?? 0);
  const m0 = mem(pid);
  const c0 = cpu(pid);

  const held$ = waitCount(N);
  const t0 = process.hrtime.bigint();
  await writeAll(feeder.sock, ann);
  const tSent = process.hrtime.bigint();
  const t1 = await held$;
  const c1 = cpu(pid);
  const m1 = mem(pid);
  // RSS again once the DUT has been idle for a while (its garbage collector may have run)
  await new Promise((r) => setTimeout(r, Number(args['settle-loaded'] ?? 2000)));
  const mSettled = mem(pid);
  const c1b = cpu(pid);

  const gone$ = waitCount(0);
  const t2 = process.hrtime.bigint();
  await writeAll(feeder.sock, wd);
  const t3 = await gone$;
  const c2 = cpu(pid);
  const m2 = mem(pid);
  const result = {
    mode: MODE,
    shape: SHAPE,
    n: N,
    announceSeconds: secs(t0, t1),
    feederSendSeconds: secs(t0, tSent),
    withdrawSeconds: secs(t2, t3),
    dutCpuSeconds: pid ? { announce: c1 - c0, withdraw: c2 - c1b, idleAfterLoad: c1b - c1 } : null,
    dutRssKiB: pid
      ? { beforeLoad: m0.rss, loaded: m1.rss, loadedSettled: mSettled.rss, peak: Math.max(m1.hwm, m2.hwm) }
      : null,
  };
  feeder.close();
  sink.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((e) => fail(e.stack ?? String(e)));
