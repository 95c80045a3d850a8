import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubernetesIpam } from '@tortie/ipam';
import { Lab, type ManagedProcess, type Netns, requireRoot, tryRun } from '@tortie/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniErrorCode, type DaemonStats, HOST_VETH_PATTERN, IpamServer, POD_ROUTE_PROTOCOL } from '../src/index.js';
import { apiInto, handlesOn, startCluster, startDaemon } from './cluster.js';
import {
  addressesOf,
  bundle,
  CNI_BIN,
  daemonStats,
  hostIfOf,
  invoke,
  makeNode,
  netnsPath,
  PLUGIN,
  podEnv,
  tempDir,
  unreachable,
} from './helpers.js';

const NODE = 'node-a';
const PODS = 50;

async function limit<T>(n: number, items: readonly T[], f: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await f(t);
    }),
  );
}

async function tortieLinks(node: Netns): Promise<string[]> {
  const links = JSON.parse((await node.ip(['-j', 'link', 'show'])).stdout) as { ifname: string }[];
  return links.map((l) => l.ifname).filter((n) => HOST_VETH_PATTERN.test(n));
}

const cniCount = (s: DaemonStats, cmd: string): number => s.cni[cmd] ?? 0;

// The shipped front end (`tortie`, native) as the runtime runs it, the shipped node daemon in the
// node's network namespace (as a hostNetwork DaemonSet pod shares the runtime's), Kubernetes-
// backed IPAM against the embedded apiserver; each pod a real network namespace, the node one too.
describe('pods on one node (embedded apiserver, real IPAM)', () => {
  let lab: Lab;
  let node: Netns;
  let dir: { path: string } & AsyncDisposable;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let relay: Awaited<ReturnType<typeof apiInto>>;
  let daemon: ManagedProcess;
  let socket: string;
  let conf: Record<string, unknown>;

  beforeAll(async () => {
    requireRoot('the CNI plugin tests (network namespaces, veths, routes)');
    await bundle();
    lab = await Lab.create();
    node = await makeNode(lab);
    dir = await tempDir();
    cluster = await startCluster();
    relay = await apiInto(node, cluster.api, dir.path);
    socket = join(dir.path, 'cni.sock');
    daemon = await startDaemon(relay.kubeconfig, socket, node);
    conf = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'tortie',
      nodename: NODE,
      mtu: 1440,
      agent_socket: socket,
    };
  }, 120_000);
  afterAll(async () => {
    await daemon?.stop();
    await relay?.close();
    await lab?.dispose();
    await cluster?.[Symbol.asyncDispose]();
    await dir?.[Symbol.asyncDispose]();
  });

  it(`${PODS} pods added at once get distinct addresses from the node's block and all reach each other and the host; DEL leaves nothing`, async () => {
    // the runtime runs the native front end, which hands each invocation to the daemon
    expect((await readFile(PLUGIN)).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    const before = await daemonStats(socket);
    const pods: Netns[] = [];
    for (let i = 0; i < PODS; i++) pods.push(await lab.namespace(`p${i}`));
    const adds = await Promise.all(
      pods.map((p, i) => invoke(node, podEnv('ADD', `ctr${i}`, netnsPath(p), `pod-${i}`), conf)),
    );
    for (const a of adds) expect(a.exitCode, a.stdout + a.stderr).toBe(0);
    const addrs = adds.map((a) => addressesOf(a.json)[0] ?? '');
    expect(new Set(addrs).size).toBe(PODS);
    // one /26 block of the pool, affine to this node
    const blocks = new Set(
      addrs.map((a) => a.split('.').slice(0, 3).join('.') + '.' + (Number(a.split('.')[3]) & ~63)),
    );
    expect(blocks.size, [...blocks].join(' ')).toBe(1);
    for (const a of addrs) expect(a).toMatch(/^10\.244\.\d+\.\d+$/);
    expect((await tortieLinks(node)).length).toBe(PODS);

    expect(await unreachable(node, addrs), 'host -> pods').toEqual([]);
    const failures: string[] = [];
    await limit(6, pods, async (p) => {
      const i = pods.indexOf(p);
      const others = addrs.filter((_, j) => j !== i);
      for (const bad of await unreachable(p, [...others, '10.0.0.1'])) failures.push(`pod ${i} -> ${bad}`);
    });
    expect(failures).toEqual([]);

    const dels = await Promise.all(
      pods.map((p, i) =>
        invoke(node, podEnv('DEL', `ctr${i}`, netnsPath(p), `pod-${i}`), { ...conf, prevResult: adds[i]?.json }),
      ),
    );
    for (const d of dels) expect(d.exitCode, d.stdout + d.stderr).toBe(0);
    const after = await daemonStats(socket);
    expect(cniCount(after, 'ADD') - cniCount(before, 'ADD')).toBe(PODS);
    expect(cniCount(after, 'DEL') - cniCount(before, 'DEL')).toBe(PODS);
    expect(after.fallback).toBe(before.fallback);
    expect(await tortieLinks(node)).toEqual([]);
    expect((await node.ip(['route', 'show', 'proto', String(POD_ROUTE_PROTOCOL)])).stdout.trim()).toBe('');
    expect(await handlesOn(cluster.kc, NODE)).toEqual([]);
    const again = await Promise.all(
      pods.slice(0, 5).map((p, i) => invoke(node, podEnv('DEL', `ctr${i}`, netnsPath(p), `pod-${i}`), conf)),
    );
    for (const d of again) expect(d.exitCode, d.stdout).toBe(0);
  }, 300_000);

  it('a burst with bad pods in it: the host side is batched, and only the bad pods fail, each with its own CNI error', async () => {
    const before = await daemonStats(socket);
    const good: Netns[] = [];
    for (let i = 0; i < 8; i++) good.push(await lab.namespace(`g${i}`));
    // a pod whose namespace already has an eth0: its veth cannot be created (in the batch)
    const taken = await lab.namespace('taken');
    await taken.ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9']);
    const notNetns = join(dir.path, 'not-a-netns');
    await writeFile(notNetns, '');
    const jobs: [string, string][] = [
      ...good.map((p, i): [string, string] => [`burst-g${i}`, netnsPath(p)]),
      ['burst-taken', netnsPath(taken)],
      ['burst-missing', '/run/netns/tortie-burst-missing'],
      ['burst-file', notNetns],
    ];
    const rs = await Promise.all(jobs.map(([id, ns]) => invoke(node, podEnv('ADD', id, ns, id), conf)));
    const byId = new Map(jobs.map(([id], i) => [id, rs[i]]));
    for (let i = 0; i < good.length; i++) {
      const r = byId.get(`burst-g${i}`);
      expect(r?.exitCode, r?.stdout).toBe(0);
    }
    const addrs = good.map((_, i) => addressesOf(byId.get(`burst-g${i}`)?.json)[0] ?? '');
    expect(new Set(addrs).size).toBe(good.length);
    expect(await unreachable(node, addrs), 'host -> pods').toEqual([]);
    const t = byId.get('burst-taken');
    expect(t?.exitCode).toBe(1);
    expect(t?.json?.code, t?.stdout).toBe(CniErrorCode.plumbingFailed);
    expect(String(t?.json?.msg)).toMatch(/creating veth .*File exists/);
    expect(String(t?.json?.details)).toMatch(/^link add tt[0-9a-f]{11} .* netns CNI_NETNS$/m);
    for (const id of ['burst-missing', 'burst-file']) {
      const r = byId.get(id);
      expect(r?.exitCode, id).toBe(1);
      expect(r?.json?.code, `${id}: ${r?.stdout}`).toBe(CniErrorCode.unknownContainer);
    }
    // the failed pods hold no address and left no host end behind
    const held = (await handlesOn(cluster.kc, NODE)).map((h) => h.handle).sort();
    expect(held).toEqual(good.map((_, i) => `k8s-pod-network.burst-g${i}`).sort());
    expect((await tortieLinks(node)).length).toBe(good.length);
    // the host side of the burst went through fewer ip processes than pods
    const after = await daemonStats(socket);
    const batches = after.hostBatches.batches - before.hostBatches.batches;
    const lineGroups = after.hostBatches.jobs - before.hostBatches.jobs;
    expect(lineGroups).toBe(good.length + 1); // the veth of each pod, "taken" included
    expect(batches).toBeLessThan(lineGroups);
    // both sides' addresses and routes through the netlink helper, also batched: a host job and
    // a pod job per good pod
    expect(after.podBatches.helper).toBe(true);
    expect(after.podBatches.jobs - before.podBatches.jobs).toBe(2 * good.length);
    expect(after.podBatches.batches - before.podBatches.batches).toBeLessThan(good.length);
    const dels = await Promise.all(jobs.map(([id, ns]) => invoke(node, podEnv('DEL', id, ns, id), conf)));
    for (const d of dels) expect(d.exitCode, d.stdout).toBe(0);
    expect(await tortieLinks(node)).toEqual([]);
    expect(await handlesOn(cluster.kc, NODE)).toEqual([]);
  }, 120_000);

  it('portmap chained after tortie: a hostPort on the node reaches a TCP server in the pod', async () => {
    const pod = await lab.namespace('web');
    const up = lab.namespaces.find((n) => n.label === 'node-up');
    if (up === undefined) throw new Error('upstream namespace missing');
    const server = pod.spawn('node', [
      '-e',
      `require('net').createServer(c=>c.end('hello from the pod\\n')).listen(8080,'0.0.0.0',()=>console.log('listening'))`,
    ]);
    await server.waitForOutput(/listening/);
    const env = podEnv('ADD', 'web', netnsPath(pod), 'web');
    const add = await invoke(node, env, conf);
    expect(add.exitCode, add.stdout).toBe(0);
    const portmapConf = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'portmap',
      snat: true,
      capabilities: { portMappings: true },
      runtimeConfig: { portMappings: [{ hostPort: 30080, containerPort: 8080, protocol: 'tcp' }] },
      prevResult: add.json,
    };
    const pm = await invoke(node, env, portmapConf, join(CNI_BIN, 'portmap'));
    expect(pm.exitCode, pm.stdout + pm.stderr).toBe(0);
    const client = `const s=require('net').connect(30080,'10.0.0.1');let d='';s.on('data',x=>d+=x);s.on('end',()=>{process.stdout.write(d)});s.on('error',e=>{console.error(e.message);process.exit(1)})`;
    const r = await up.exec('node', ['-e', client], { timeoutMs: 20_000 });
    expect(r.stdout).toBe('hello from the pod\n');
    const delEnv = { ...env, CNI_COMMAND: 'DEL' };
    expect((await invoke(node, delEnv, portmapConf, join(CNI_BIN, 'portmap'))).exitCode).toBe(0);
    expect((await invoke(node, delEnv, { ...conf, prevResult: add.json })).exitCode).toBe(0);
    expect((await up.tryExec('node', ['-e', client], { timeoutMs: 20_000 })).exitCode).not.toBe(0);
  }, 120_000);

  it('without the node daemon the front end runs the Node plugin, which talks to the API itself (kubeconfig)', async () => {
    const served = await daemonStats(socket);
    // no socket file at all
    const direct = {
      ...conf,
      agent_socket: join(dir.path, 'nobody.sock'),
      kubernetes: { kubeconfig: relay.kubeconfig },
    };
    const pod = await lab.namespace('direct');
    const add = await invoke(node, podEnv('ADD', 'direct', netnsPath(pod), 'direct'), direct);
    expect(add.exitCode, add.stdout + add.stderr).toBe(0);
    const [addr] = addressesOf(add.json);
    expect(await unreachable(node, [addr ?? ''])).toEqual([]);
    expect((await handlesOn(cluster.kc, NODE)).map((h) => h.handle)).toContain('k8s-pod-network.direct');
    // a socket file nobody listens on any more (a daemon that died): connection refused
    const deadPath = join(dir.path, 'dead.sock');
    // a listener killed outright leaves its socket file behind
    await tryRun('node', [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(deadPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect((await stat(deadPath)).isSocket()).toBe(true);
    const refused = { ...direct, agent_socket: deadPath };
    const check = await invoke(node, podEnv('CHECK', 'direct', netnsPath(pod), 'direct'), {
      ...refused,
      prevResult: add.json,
    });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    const del = await invoke(node, podEnv('DEL', 'direct', netnsPath(pod), 'direct'), refused);
    expect(del.exitCode, del.stdout).toBe(0);
    expect((await handlesOn(cluster.kc, NODE)).map((h) => h.handle)).not.toContain('k8s-pod-network.direct');
    // none of it went through the daemon
    expect(await daemonStats(socket)).toEqual(served);
  }, 120_000);

  it('a daemon in another network namespace than the runtime sends the front end to the Node plugin, which still uses its IPAM', async () => {
    // this daemon runs in the test's namespace, not the node's: plumbing done there would be wrong
    await using elsewhere = await IpamServer.start({
      socketPath: join(dir.path, 'elsewhere.sock'),
      ipam: kubernetesIpam(cluster.kc),
    });
    const c = { ...conf, agent_socket: elsewhere.socketPath };
    const pod = await lab.namespace('elsewhere');
    const add = await invoke(node, podEnv('ADD', 'elsewhere', netnsPath(pod), 'elsewhere'), c);
    expect(add.exitCode, add.stdout + add.stderr).toBe(0);
    expect(await unreachable(pod, ['10.0.0.1'])).toEqual([]);
    expect((await node.ip(['route', 'show', 'proto', String(POD_ROUTE_PROTOCOL)])).stdout).toContain(
      hostIfOf(add.json),
    );
    expect(elsewhere.stats.fallback).toBe(1);
    expect(elsewhere.stats.cni).toEqual({});
    expect(elsewhere.stats.ipam).toBeGreaterThanOrEqual(1); // the Node plugin's allocation
    const del = await invoke(node, podEnv('DEL', 'elsewhere', netnsPath(pod), 'elsewhere'), c);
    expect(del.exitCode, del.stdout).toBe(0);
    expect(elsewhere.stats.fallback).toBe(2);
    expect((await handlesOn(cluster.kc, NODE)).map((h) => h.handle)).not.toContain('k8s-pod-network.elsewhere');
  }, 120_000);

  it('bad input through the front end and the daemon gets the right CNI error', async () => {
    const before = await daemonStats(socket);
    const pod = await lab.namespace('pod-err');
    const cases: [string, Record<string, string>, unknown, number][] = [
      ['unknown cniVersion', podEnv('ADD', 'e1', netnsPath(pod)), { ...conf, cniVersion: '0.9.9' }, 1],
      // malformed after the socket is named, so the front end still finds the daemon
      [
        'malformed JSON',
        podEnv('ADD', 'e2', netnsPath(pod)),
        `{"agent_socket":${JSON.stringify(socket)},"cniVersion":`,
        6,
      ],
      [
        'missing CNI_NETNS',
        { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'e3', CNI_IFNAME: 'eth0' },
        conf,
        CniErrorCode.invalidEnvironment,
      ],
      ['no such netns', podEnv('ADD', 'e4', '/run/netns/tortie-no-such-ns'), conf, CniErrorCode.unknownContainer],
      [
        'bad CNI_IFNAME',
        { ...podEnv('ADD', 'e5', netnsPath(pod)), CNI_IFNAME: 'a/b' },
        conf,
        CniErrorCode.invalidEnvironment,
      ],
      ['bad mtu', podEnv('ADD', 'e6', netnsPath(pod)), { ...conf, mtu: 'big' }, CniErrorCode.invalidConfig],
    ];
    for (const [what, env, c, code] of cases) {
      const r = await invoke(node, env, c);
      expect(r.exitCode, what).toBe(1);
      expect(r.json?.code, `${what}: ${r.stdout}`).toBe(code);
      expect(String(r.json?.msg).length, what).toBeGreaterThan(20);
    }
    const after = await daemonStats(socket);
    expect(cniCount(after, 'ADD') - cniCount(before, 'ADD')).toBe(cases.length);
    expect(after.fallback).toBe(before.fallback);
    expect((await handlesOn(cluster.kc, NODE)).map((h) => h.handle)).toEqual([]);
    expect((await pod.tryExec('ip', ['link', 'show', 'eth0'])).exitCode).not.toBe(0);
  }, 60_000);

  it('an exhausted pool is "no free address", and the pod is left clean', async () => {
    await using small = await startCluster({ cidr: '10.99.0.0/30', blockSize: 30 });
    const sock = join(dir.path, 'small.sock');
    const smallRelay = await apiInto(node, small.api, dir.path, 16444);
    const d = await startDaemon(smallRelay.kubeconfig, sock, node);
    try {
      const c = { ...conf, agent_socket: sock, nodename: 'node-small' };
      const results = [];
      for (let i = 0; i < 5; i++) {
        const p = await lab.namespace(`s${i}`);
        results.push({ p, r: await invoke(node, podEnv('ADD', `s${i}`, netnsPath(p), `s${i}`), c) });
      }
      const ok = results.filter((x) => x.r.exitCode === 0);
      const failed = results.filter((x) => x.r.exitCode !== 0);
      expect(ok.length).toBe(4); // a /30 pool in /30 blocks: 4 addresses
      expect(failed.length).toBe(1);
      expect(failed[0]?.r.json?.code, failed[0]?.r.stdout).toBe(CniErrorCode.noFreeAddress);
      expect(String(failed[0]?.r.json?.msg)).toMatch(/no free address/);
      expect((await failed[0]?.p.tryExec('ip', ['link', 'show', 'eth0']))?.exitCode).not.toBe(0);
      for (const { p, r } of ok) {
        expect(hostIfOf(r.json)).toMatch(HOST_VETH_PATTERN);
        expect((await invoke(node, podEnv('DEL', p.label, netnsPath(p), p.label), c)).exitCode).toBe(0);
      }
      expect(cniCount(await daemonStats(sock), 'ADD')).toBe(5);
    } finally {
      await d.stop();
      await smallRelay.close();
    }
  }, 120_000);
});
