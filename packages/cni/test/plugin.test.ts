import { join } from 'node:path';
import { Lab, type Netns, requireRoot } from '@tortie/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniErrorCode, GATEWAY_V4, GATEWAY_V6, IpamServer, POD_ROUTE_PROTOCOL } from '../src/index.js';
import {
  addressesOf,
  bundle,
  FakeIpam,
  hostIfOf,
  invoke as invokeAny,
  makeNode,
  NODE_PLUGIN,
  netnsPath,
  podEnv,
  tempDir,
  unreachable,
} from './helpers.js';

// The Node plugin (the front end's fallback, and the plugin of a node without the daemon) run as
// a runtime runs it, against real namespaces; IPAM is an in-memory fake behind the real node
// socket (the Kubernetes-backed IPAM and the native front end are exercised in pods.test.ts).
const invoke = (node: Netns, env: Record<string, string>, conf: unknown) => invokeAny(node, env, conf, NODE_PLUGIN);

describe('tortie plugin (fake IPAM behind the node socket)', () => {
  let lab: Lab;
  let node: Netns;
  let dir: { path: string } & AsyncDisposable;
  let ipam: FakeIpam;
  let server: IpamServer;
  let conf: Record<string, unknown>;

  beforeAll(async () => {
    requireRoot('the CNI plugin tests (network namespaces, veths, routes)');
    await bundle();
    lab = await Lab.create();
    node = await makeNode(lab);
    dir = await tempDir();
    ipam = new FakeIpam();
    server = await IpamServer.start({ socketPath: join(dir.path, 'cni.sock'), ipam });
    conf = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'tortie',
      nodename: 'node-a',
      tunnel_overhead: 20,
      agent_socket: server.socketPath,
    };
  });
  afterAll(async () => {
    await server?.close();
    await lab?.dispose();
    await dir?.[Symbol.asyncDispose]();
  });

  it('ADD wires a pod, CHECK passes, CHECK names what breaks, DEL undoes it all, twice', async () => {
    const pod = await lab.namespace('pod-a');
    const add = await invoke(node, podEnv('ADD', 'ctr-a', netnsPath(pod), 'web-a'), conf);
    expect(add.exitCode, add.stdout + add.stderr).toBe(0);
    const [addr] = addressesOf(add.json);
    expect(addr).toMatch(/^10\.244\.7\.\d+$/);
    const ifs = (add.json?.interfaces ?? []) as { name: string; sandbox?: string }[];
    const hostIf = hostIfOf(add.json);
    expect(hostIf).toMatch(/^tt[0-9a-f]{11}$/);
    expect(ifs[1]).toMatchObject({ name: 'eth0', sandbox: netnsPath(pod) });

    // inside the pod: /32, default via the link-local gateway, MTU = uplink 1500 - 20
    const podAddr = JSON.parse((await pod.ip(['-j', 'addr', 'show', 'dev', 'eth0'])).stdout) as {
      mtu: number;
      addr_info: { local: string; prefixlen: number }[];
    }[];
    expect(podAddr[0]?.mtu).toBe(1480);
    expect(podAddr[0]?.addr_info.filter((a) => a.local === addr).map((a) => a.prefixlen)).toEqual([32]);
    expect((await pod.ip(['route', 'show', 'default'])).stdout).toContain(`default via ${GATEWAY_V4} dev eth0`);
    // on the host: a /32 to the pod through its veth, with our protocol, and proxy ARP on
    const routes = (await node.ip(['route', 'show', 'proto', String(POD_ROUTE_PROTOCOL)])).stdout;
    expect(routes).toContain(`${addr} dev ${hostIf}`);
    expect((await node.exec('cat', [`/proc/sys/net/ipv4/conf/${hostIf}/proxy_arp`])).stdout.trim()).toBe('1');

    expect(await unreachable(node, [addr ?? ''])).toEqual([]);
    expect(await unreachable(pod, ['10.0.0.1'])).toEqual([]);
    // without the pinned neighbour entry the gateway is found by proxy ARP on the host end
    await pod.ip(['neigh', 'del', GATEWAY_V4, 'dev', 'eth0']);
    expect(await unreachable(pod, ['10.0.0.1'])).toEqual([]);
    const neigh = (await pod.ip(['neigh', 'show', GATEWAY_V4])).stdout;
    expect(neigh).toContain('ee:ee:ee:ee:ee:ee');

    const checkConf = { ...conf, prevResult: add.json };
    const ok = await invoke(node, podEnv('CHECK', 'ctr-a', netnsPath(pod), 'web-a'), checkConf);
    expect(ok.exitCode, ok.stdout).toBe(0);
    await node.ip(['route', 'del', `${addr}/32`, 'dev', hostIf]);
    const bad = await invoke(node, podEnv('CHECK', 'ctr-a', netnsPath(pod), 'web-a'), checkConf);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.json?.code).toBe(CniErrorCode.checkFailed);
    expect(String(bad.json?.msg)).toContain(`no route proto ${POD_ROUTE_PROTOCOL} to ${addr}`);

    const del = await invoke(node, podEnv('DEL', 'ctr-a', netnsPath(pod), 'web-a'), checkConf);
    expect(del.exitCode, del.stdout).toBe(0);
    expect((await node.ip(['link', 'show'])).stdout).not.toContain(hostIf);
    expect((await pod.tryExec('ip', ['link', 'show', 'eth0'])).exitCode).not.toBe(0);
    expect(ipam.byHandle.size).toBe(0);
    const again = await invoke(node, podEnv('DEL', 'ctr-a', netnsPath(pod), 'web-a'), checkConf);
    expect(again.exitCode, again.stdout).toBe(0);
    // and once the namespace itself is gone
    const gone = await invoke(node, podEnv('DEL', 'ctr-a', '/run/netns/tortie-no-such-ns', 'web-a'), conf);
    expect(gone.exitCode, gone.stdout).toBe(0);
  });

  it('bad input gets the right CNI error', async () => {
    const pod = await lab.namespace('pod-err');
    const cases: [string, Record<string, string>, unknown, number][] = [
      ['unknown cniVersion', podEnv('ADD', 'e1', netnsPath(pod)), { ...conf, cniVersion: '0.9.9' }, 1],
      ['malformed JSON', podEnv('ADD', 'e2', netnsPath(pod)), '{"cniVersion":', 6],
      [
        'missing CNI_NETNS',
        { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'e3', CNI_IFNAME: 'eth0' },
        conf,
        CniErrorCode.invalidEnvironment,
      ],
      ['no such netns', podEnv('ADD', 'e4', '/run/netns/tortie-no-such-ns'), conf, CniErrorCode.unknownContainer],
    ];
    for (const [what, env, c, code] of cases) {
      const r = await invoke(node, env, c);
      expect(r.exitCode, what).not.toBe(0);
      expect(r.json?.code, `${what}: ${r.stdout}`).toBe(code);
      expect(String(r.json?.msg).length, what).toBeGreaterThan(20);
    }
    expect(ipam.byHandle.size).toBe(0);
  });

  it('no free address is a CNI error that says what to do, and leaves nothing behind', async () => {
    await using d = await tempDir();
    await using empty = await IpamServer.start({ socketPath: join(d.path, 's'), ipam: new FakeIpam({ size: 0 }) });
    const pod = await lab.namespace('pod-full');
    const r = await invoke(node, podEnv('ADD', 'full', netnsPath(pod)), { ...conf, agent_socket: empty.socketPath });
    expect(r.exitCode).not.toBe(0);
    expect(r.json?.code).toBe(CniErrorCode.noFreeAddress);
    expect(String(r.json?.msg)).toMatch(/no free address/);
    expect((await pod.tryExec('ip', ['link', 'show', 'eth0'])).exitCode).not.toBe(0);
  });

  it('IPAM down is "try again later", and STATUS reports the plugin unavailable', async () => {
    const pod = await lab.namespace('pod-down');
    const down = { ...conf, agent_socket: '/run/tortie-no-such-dir/cni.sock' };
    const r = await invoke(node, podEnv('ADD', 'down', netnsPath(pod)), down);
    expect(r.json?.code).toBe(CniErrorCode.tryAgainLater);
    expect(String(r.json?.msg)).toContain('DaemonSet');
    const st = await invoke(node, { CNI_COMMAND: 'STATUS' }, { ...down, cniVersion: '1.1.0' });
    expect(st.exitCode).not.toBe(0);
    expect(st.json?.code).toBe(CniErrorCode.notAvailable);
    const up = await invoke(node, { CNI_COMMAND: 'STATUS' }, { ...conf, cniVersion: '1.1.0' });
    expect(up.exitCode, up.stdout).toBe(0);
    expect(up.stdout).toBe('');
  });

  it('dual stack: a /128 too, IPv6 default route via the host end link-local, both families reach the host', async () => {
    await node.ip(['-6', 'addr', 'add', 'fd00:0:0:1::1/64', 'dev', 'uplink0', 'nodad']);
    const pod = await lab.namespace('pod-v6');
    const dual = { ...conf, ipam: { assign_ipv4: true, assign_ipv6: true } };
    const add = await invoke(node, podEnv('ADD', 'dual', netnsPath(pod), 'web-v6'), dual);
    expect(add.exitCode, add.stdout).toBe(0);
    const [v4, v6] = addressesOf(add.json);
    expect(v4).toMatch(/^10\.244\.7\./);
    expect(v6).toMatch(/^fd00:10:244:7::/);
    expect((await pod.ip(['-6', 'addr', 'show', 'dev', 'eth0'])).stdout).toContain(`${v6}/128`);
    expect((await pod.ip(['-6', 'route', 'show', 'default'])).stdout).toContain(`via ${GATEWAY_V6} dev eth0`);
    expect(
      (await node.exec('cat', ['/proc/sys/net/ipv6/conf/' + hostIfOf(add.json) + '/proxy_ndp'])).stdout.trim(),
    ).toBe('1');
    expect(await unreachable(node, [v4 ?? '', v6 ?? ''])).toEqual([]);
    expect(await unreachable(pod, ['10.0.0.1', 'fd00:0:0:1::1'])).toEqual([]);
    const del = await invoke(node, podEnv('DEL', 'dual', netnsPath(pod), 'web-v6'), dual);
    expect(del.exitCode).toBe(0);
    expect((await node.ip(['-6', 'route', 'show', 'proto', String(POD_ROUTE_PROTOCOL)])).stdout.trim()).toBe('');
  });

  it('GC releases addresses and links of containers not in the valid list', async () => {
    const keep = await lab.namespace('pod-keep');
    const drop = await lab.namespace('pod-drop');
    const a = await invoke(node, podEnv('ADD', 'keep', netnsPath(keep)), conf);
    const b = await invoke(node, podEnv('ADD', 'drop', netnsPath(drop)), conf);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const dropIf = hostIfOf(b.json);
    const keepIf = hostIfOf(a.json);
    const gc = await invoke(
      node,
      { CNI_COMMAND: 'GC' },
      { ...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] },
    );
    expect(gc.exitCode, gc.stdout).toBe(0);
    expect([...ipam.byHandle.keys()]).toEqual(['k8s-pod-network.keep']);
    const links = (await node.ip(['link', 'show'])).stdout;
    expect(links).not.toContain(dropIf);
    expect(links).toContain(keepIf);
    expect(await unreachable(node, addressesOf(a.json))).toEqual([]);
    await invoke(node, podEnv('DEL', 'keep', netnsPath(keep)), conf);
    expect(ipam.byHandle.size).toBe(0);
  });
});
