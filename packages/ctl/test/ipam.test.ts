// tortiectl ipam show against the embedded apiserver, with real allocations made through
// @tortie/ipam over HTTP: table and JSON output, --show-blocks, --ip, unusable pools, bad arguments.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startApiServer } from '@tortie/apiserver';
import { applyCrds, DEFAULT_POOL, kubernetesIpam } from '@tortie/ipam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpamShowReport } from '../src/index.js';
import { ctl } from './helpers.js';

/** Rows of the table whose header starts with `header`, split into cells. */
function rows(text: string, header: string): string[][] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(header));
  if (at < 0) throw new Error(`no table ${header} in:\n${text}`);
  const out: string[][] = [];
  for (const l of lines.slice(at)) {
    if (l.trim() === '') break;
    out.push(l.trim().split(/\s{2,}/));
  }
  return out;
}

let server: Awaited<ReturnType<typeof startApiServer>>;
let kubeconfig: string;
const ips: Record<string, string> = {};

beforeAll(async () => {
  server = await startApiServer();
  kubeconfig = server.kubeconfigPath;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  await applyCrds(kc);
  const core = kc.makeApiClient(CoreV1Api);
  for (const n of ['n1', 'n2']) await core.createNode({ body: { metadata: { name: n } } });
  const ipam = kubernetesIpam(kc);
  await ipam.createPool(DEFAULT_POOL);
  for (const [pod, node] of [
    ['web-0', 'n1'],
    ['web-1', 'n1'],
    ['db-0', 'n1'],
    ['cache-0', 'n2'],
  ] as const) {
    const a = await ipam.allocate({
      handle: `k8s-pod-network.${pod}`,
      node,
      ipv4: 1,
      ipv6: 0,
      attributes: { namespace: 'shop', pod, node },
    });
    ips[pod] = a.addresses[0]?.address ?? '';
  }
  // Created straight through the API, where the schema cannot see the overlap.
  await ipam.store.pools.create('overlapping', { cidr: '10.244.128.0/17' });
});
afterAll(async () => {
  await server?.stop();
});

describe('tortiectl ipam show', () => {
  it('table: per pool and per node, blocks and addresses used/free; unusable pools say why', async () => {
    const r = await ctl('ipam', 'show', '--kubeconfig', kubeconfig);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(rows(r.stdout, 'POOL')).toEqual([
      ['POOL', 'CIDR', 'BLOCK SIZE', 'BLOCKS', 'USED', 'FREE (IN BLOCKS)', 'SIZE', 'STATE'],
      [DEFAULT_POOL.name, '10.244.0.0/16', '/26', '2', '4', '124', '65536', 'active'],
    ]);
    expect(r.stdout).toContain(
      `pool overlapping (10.244.128.0/17) is not used: spec.cidr: 10.244.128.0/17 overlaps pool ${DEFAULT_POOL.name} (10.244.0.0/16)`,
    );
    expect(rows(r.stdout, 'NODE')).toEqual([
      ['NODE', 'BLOCKS', 'USED', 'FREE', 'BORROWED'],
      ['n1', '1', '3', '61', '0'],
      ['n2', '1', '1', '63', '0'],
    ]);
    expect(r.stdout).not.toContain('ADDRESS');
  });

  it('--show-blocks: every block, and each address with its handle and pod', async () => {
    const r = await ctl('ipam', 'show', '--show-blocks', '--kubeconfig', kubeconfig);
    expect(r.code).toBe(0);
    const blocks = rows(r.stdout, 'BLOCK ');
    expect(blocks[0]).toEqual(['BLOCK', 'POOL', 'NODE', 'USED', 'FREE']);
    expect(
      blocks
        .slice(1)
        .map((b) => [b[1], b[2], b[3], b[4]])
        .sort(),
    ).toEqual([
      [DEFAULT_POOL.name, 'n1', '3', '61'],
      [DEFAULT_POOL.name, 'n2', '1', '63'],
    ]);
    const addrs = rows(r.stdout, 'ADDRESS');
    expect(addrs[0]).toEqual(['ADDRESS', 'BLOCK', 'HANDLE', 'POD', 'NODE']);
    const byPod = new Map(addrs.slice(1).map((a) => [a[3], a]));
    expect(byPod.size).toBe(4);
    expect(byPod.get('shop/db-0')?.[0]).toBe(ips['db-0']);
    expect(byPod.get('shop/db-0')?.[2]).toBe('k8s-pod-network.db-0');
    expect(byPod.get('shop/cache-0')?.[4]).toBe('n2');
  });

  it('--ip: one address, in use or free', async () => {
    const used = await ctl('ipam', 'show', '--ip', ips['web-1'] ?? '', '--kubeconfig', kubeconfig);
    expect(used.code).toBe(0);
    expect(used.stdout).toMatch(
      new RegExp(
        `^${ips['web-1']?.replaceAll('.', '\\.')}: in use, block \\S+/26, handle k8s-pod-network\\.web-1, pod shop/web-1, node n1$`,
        'm',
      ),
    );
    const outside = await ctl('ipam', 'show', '--ip', '192.0.2.1', '--kubeconfig', kubeconfig);
    expect(outside.stdout).toContain('192.0.2.1: not in any block');
  });

  it('-o json: the whole report, machine-readable', async () => {
    const r = await ctl(
      'ipam',
      'show',
      '--show-blocks',
      '--ip',
      ips['cache-0'] ?? '',
      '-o',
      'json',
      '--kubeconfig',
      kubeconfig,
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as IpamShowReport;
    expect(j.pools).toEqual([
      {
        name: DEFAULT_POOL.name,
        cidr: '10.244.0.0/16',
        blockSize: 26,
        disabled: false,
        size: '65536',
        blocks: 2,
        used: 4,
        free: 124,
      },
    ]);
    expect(j.nodes.map((n) => [n.node, n.used])).toEqual([
      ['n1', 3],
      ['n2', 1],
    ]);
    expect(j.unusedPools).toEqual([
      {
        name: 'overlapping',
        cidr: '10.244.128.0/17',
        field: 'spec.cidr',
        error: `spec.cidr: 10.244.128.0/17 overlaps pool ${DEFAULT_POOL.name} (10.244.0.0/16); pools must be disjoint`,
      },
    ]);
    expect(j.blocks?.flatMap((b) => b.addresses.map((a) => a.pod)).sort()).toEqual([
      'cache-0',
      'db-0',
      'web-0',
      'web-1',
    ]);
    expect(j.ip).toMatchObject({
      address: ips['cache-0'],
      allocated: true,
      owner: { handle: 'k8s-pod-network.cache-0', namespace: 'shop', pod: 'cache-0', node: 'n2' },
    });
  });

  it('bad arguments: exit 2 and the argument named; an unreachable API: exit 1', async () => {
    for (const [argv, says] of [
      [['ipam', 'show', '--ip', 'nope', '--kubeconfig', kubeconfig], '--ip: "nope" is not an IPv4 or IPv6 address'],
      [['ipam', 'show', '-o', 'yaml', '--kubeconfig', kubeconfig], '-o/--output: "yaml" is not one of table, json'],
      [['ipam', 'show', '--ip'], '--ip: needs a value'],
      [['ipam', 'show', '--colour'], '--colour: unknown flag'],
      [['ipam', 'list'], 'list: unknown ipam command'],
      [['ipam', 'show', 'extra', '--kubeconfig', kubeconfig], 'extra: unexpected argument to "ipam show"'],
      [['frob'], 'frob: unknown command'],
      [['ipam', 'show', '--kubeconfig', '/nonexistent'], '--kubeconfig: cannot load /nonexistent'],
    ] as const) {
      const r = await ctl(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain(`tortiectl: ${says}`);
      expect(r.stdout).toBe('');
    }
  });
});
