// tortie-ipam-controller as a process (the built program, as `pnpm exec` runs it) against the
// embedded apiserver, through a proxy that records every request: nodes get blocks, GC releases a
// leaked address and says so, pools get conditions and finalizers, /healthz and /metrics answer,
// SIGTERM ends it with status 0. Then every request it made must be granted by the ClusterRole in
// deploy/ipam-controller.yaml, and every rule of that role must have been used.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POOL, kubernetesIpam } from '../src/index.js';
import { startEnv, until as untilWithin } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '../bin/tortie-ipam-controller.js');
const DEPLOY = join(here, '../../../deploy');

/** (verb, resource) as RBAC sees a request: `ippools/status`, group `crd.tortie.dev`. */
export interface ApiCall {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}

export function apiCallOf(method: string, url: string): ApiCall {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.split('/').filter((p) => p !== '');
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else {
    return { verb: method.toLowerCase(), group: '', resource: u.pathname }; // non-resource URL
  }
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [resource = '', name, sub] = rest;
  const watch = u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1';
  const verb =
    method === 'GET'
      ? name === undefined
        ? watch
          ? 'watch'
          : 'list'
        : 'get'
      : method === 'POST'
        ? 'create'
        : method === 'PUT'
          ? 'update'
          : method === 'PATCH'
            ? 'patch'
            : name === undefined
              ? 'deletecollection'
              : 'delete';
  return { verb, group, resource: sub === undefined ? resource : `${resource}/${sub}` };
}

/** A plain HTTP proxy to `target` that records every request. */
async function recordingProxy(target: string): Promise<{ url: string; calls: ApiCall[]; server: Server }> {
  const t = new URL(target);
  const calls: ApiCall[] = [];
  const server = createServer((req, res) => {
    calls.push(apiCallOf(req.method ?? 'GET', req.url ?? '/'));
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        res.flushHeaders(); // a watch answers headers long before its first event
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function clusterRole(file: string, name: string): Rule[] {
  const docs = loadAllYaml(readFileSync(join(DEPLOY, file), 'utf8')) as {
    kind?: string;
    metadata?: { name?: string };
    rules?: Rule[];
  }[];
  const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata?.name === name);
  if (!role?.rules) throw new Error(`no ClusterRole ${name} in deploy/${file}`);
  return role.rules;
}

const granted = (rules: readonly Rule[], c: ApiCall): boolean =>
  rules.some((r) => r.apiGroups.includes(c.group) && r.resources.includes(c.resource) && r.verbs.includes(c.verb));

const until = <T>(what: string, f: () => Promise<T | undefined | false>): Promise<T> => untilWithin(what, f, 15_000);

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (p.exitCode !== null) r(p.exitCode);
    else p.once('exit', (code) => r(code));
  });
}

describe('tortie-ipam-controller (the built program)', () => {
  it('bad arguments: exit 2 naming the argument', async () => {
    for (const [args, says] of [
      [['--gc-grace', 'soon'], '--gc-grace: "soon" is not a positive duration'],
      [['--metrics-port', '70000'], '--metrics-port: "70000" is not a port'],
      [['--frobnicate'], '--frobnicate: unknown argument'],
      [['--kubeconfig', '/nonexistent/kubeconfig'], '--kubeconfig: cannot load /nonexistent/kubeconfig'],
    ] as const) {
      const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      expect(await exited(p)).toBe(2);
      expect(stderr).toContain(says);
    }
  });

  it('runs against the API: blocks for new nodes, GC, pool conditions and finalizers, /healthz, /metrics, SIGTERM; RBAC covers exactly its calls', async () => {
    expect(existsSync(join(here, '../dist/cli.js')), 'run `pnpm build` first: the test runs the built program').toBe(
      true,
    );
    await using env = await startEnv();
    const admin = kubernetesIpam(env.kubeconfig());
    await admin.createPool(DEFAULT_POOL);
    const proxy = await recordingProxy(env.server.url);
    const kubeconfig = join(tmpdir(), `tortie-ipam-controller-${process.pid}.kubeconfig`);
    writeFileSync(kubeconfig, readFileSync(env.server.kubeconfigPath, 'utf8').replace(env.server.url, proxy.url), {
      mode: 0o600,
    });
    const p = spawn(
      process.execPath,
      [BIN, '--kubeconfig', kubeconfig, '--metrics-port', '0', '--gc-grace', '1s', '--gc-interval', '300ms'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      const base = await until(
        'the metrics URL in the log',
        async () => /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1],
      );
      await until('started', async () => out.includes('started: watching nodes and pools'));
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      // A new node gets a block before its first pod, and the log says so.
      await env.addNode('n1');
      const block = await until('a block for n1', async () =>
        (await admin.store.blocks.list()).find((b) => b.spec.affinity === 'host:n1'),
      );
      await until('the log line', async () => out.includes(`block ${block.spec.cidr} given to node n1`));

      // A leaked address (its pod never existed) is released after the grace period; a live
      // pod's address is not.
      await env.addPod('default', 'live', 'n1');
      const live = await admin.allocate({
        handle: 'h-live',
        node: 'n1',
        ipv4: 1,
        ipv6: 0,
        attributes: { namespace: 'default', pod: 'live', node: 'n1' },
      });
      const ghost = await admin.allocate({
        handle: 'h-ghost',
        node: 'n1',
        ipv4: 1,
        ipv6: 0,
        attributes: { namespace: 'default', pod: 'ghost', node: 'n1' },
      });
      const ghostIp = ghost.addresses[0]?.address ?? '';
      await until('gc log', async () =>
        out.includes(`gc: address ${ghostIp} released (handle h-ghost): pod default/ghost gone since `),
      );
      expect((await admin.handles()).map((h) => h.handle)).toEqual(['h-live']);
      expect((await admin.handles())[0]?.addresses).toEqual([live.addresses[0]?.address]);

      // Pools: an overlapping one gets Valid=False; a pool deleted through the API goes once empty.
      await admin.store.pools.create('overlap', { cidr: '10.244.0.0/20' });
      await admin.createPool({ name: 'extra', spec: { cidr: '10.245.0.0/16', nodeSelector: "zone == 'b'" } });
      await until('Valid=False', async () =>
        (await admin.store.pools.get('overlap'))?.status?.conditions?.some(
          (c) => c.type === 'Valid' && c.status === 'False' && c.message.includes('overlaps pool default-ipv4-ippool'),
        ),
      );
      await until('finalizer on extra', async () =>
        (await admin.store.pools.get('extra'))?.metadata?.finalizers?.includes('crd.tortie.dev/ipam'),
      );
      await admin.store.pools.delete('extra');
      await until('extra gone', async () => (await admin.store.pools.get('extra')) === undefined);

      // A deleted node: its addresses whose pods are gone and its empty blocks are released.
      await admin.releaseByHandle('h-live');
      await env.deletePod('default', 'live');
      await env.deleteNode('n1');
      await until('n1 blocks released', async () => (await admin.store.blocks.list()).length === 0);

      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^tortie_ipam_reconciles_total\{kind="node"\} [1-9]\d*$/m);
      expect(metrics).toMatch(/^tortie_ipam_reconciles_total\{kind="pool"\} [1-9]\d*$/m);
      expect(metrics).toMatch(/^tortie_ipam_reconciles_total\{kind="gc"\} [1-9]\d*$/m);
      expect(metrics).toMatch(/^tortie_ipam_gc_released_addresses_total 1$/m);
      expect(metrics).toMatch(/^tortie_ipam_blocks_claimed_total 1$/m);
      expect(metrics).toMatch(/^tortie_ipam_pools_finalized_total 1$/m);
      expect(metrics).toMatch(/^tortie_ipam_reconcile_errors_total\{kind="node"\} \d+$/m);
      expect(metrics).toMatch(/^tortie_ipam_up 1$/m);

      p.kill('SIGTERM');
      expect(await exited(p)).toBe(0);
      expect(out).toContain('SIGTERM: stopping');
      expect(out).toContain('stopped');
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; the controller's output:\n${out}`);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      await new Promise<void>((r) => proxy.server.close(() => r()));
      proxy.server.closeAllConnections();
    }

    // RBAC: every call granted; every granted (verb, resource) used.
    const rules = clusterRole('ipam-controller.yaml', 'tortie-ipam-controller');
    const seen = new Map(proxy.calls.map((c) => [`${c.verb} ${c.group}/${c.resource}`, c]));
    const denied = [...seen.keys()].filter((k) => !granted(rules, seen.get(k) as ApiCall));
    expect(denied, `calls the ClusterRole does not grant:\n${out}`).toEqual([]);
    // Granted but never seen: only what this run cannot reach, each for a stated reason.
    const notExercised = new Set([
      // Only checked by admission (OwnerReferencesPermissionEnforcement) when finalizers are set.
      'update crd.tortie.dev/ippools/finalizers',
    ]);
    const unused = rules
      .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))))
      .filter((k) => !seen.has(k) && !notExercised.has(k));
    expect(unused).toEqual([]);
  });

  it("the node role (tortie-cni) grants every call the CNI daemon's IPAM makes", async () => {
    await using env = await startEnv();
    await kubernetesIpam(env.kubeconfig()).createPool(DEFAULT_POOL);
    await env.addNode('n1');
    await env.addNode('n2');
    const proxy = await recordingProxy(env.server.url);
    try {
      const kc = env.kubeconfig();
      kc.clusters[0] = { ...(kc.clusters[0] as (typeof kc.clusters)[number]), server: proxy.url };
      // What tortie-cni daemon does (packages/cni: kubernetesIpam): ADD, a retried ADD, CHECK/GC's
      // handle listing, DEL; with a small maxBlocksPerHost so that n2 borrows from n1's block.
      const cni = kubernetesIpam(kc);
      const a = await cni.allocate({ handle: 'h1', node: 'n1', ipv4: 1, ipv6: 0, attributes: { node: 'n1' } });
      expect(await cni.allocate({ handle: 'h1', node: 'n1', ipv4: 1, ipv6: 0, attributes: {} })).toEqual(a);
      await cni.allocate({ handle: 'h2', node: 'n2', ipv4: 1, ipv6: 0, attributes: { node: 'n2' } });
      await kubernetesIpam(env.kubeconfig()).setConfig({ maxBlocksPerHost: 1 });
      const many = await cni.allocateMany(
        Array.from({ length: 70 }, (_, i) => ({ handle: `m${i}`, node: 'n1', ipv4: 1, ipv6: 0, attributes: {} })),
      );
      expect(many.filter((m) => !m.ok)).toEqual([]);
      // the last ones borrowed from n2's block
      const blocks = new Set(many.flatMap((m) => (m.ok ? m.allocation.addresses.map((x) => x.block) : [])));
      expect(blocks.size).toBe(2);
      await cni.handles({ node: 'n1' });
      for (const h of ['h1', 'h2', ...Array.from({ length: 70 }, (_, i) => `m${i}`)]) await cni.releaseByHandle(h);
    } finally {
      await new Promise<void>((r) => proxy.server.close(() => r()));
      proxy.server.closeAllConnections();
    }
    const rules = clusterRole('node.yaml', 'tortie-cni');
    const denied = [
      ...new Set(proxy.calls.filter((c) => !granted(rules, c)).map((c) => `${c.verb} ${c.group}/${c.resource}`)),
    ];
    expect(denied).toEqual([]);
    expect(proxy.calls.length).toBeGreaterThan(20);
  });
});
