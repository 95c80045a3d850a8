import { readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubernetesIpam } from '@tortie/ipam';
import { expect, it } from 'vitest';
import { KeepAliveKubeConfig } from '../src/index.js';
import { startCluster } from './cluster.js';
import { tempDir } from './helpers.js';

it('the daemon API client reuses its connections (client-node alone opens one per request)', async () => {
  await using cluster = await startCluster();
  await using dir = await tempDir();
  const target = new URL(cluster.api.url);
  let connections = 0;
  // a counting relay in front of the apiserver
  const relay = createServer((c) => {
    connections++;
    const up = createConnection(Number(target.port), target.hostname);
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const port = (relay.address() as { port: number }).port;
  const path = join(dir.path, 'kubeconfig');
  const text = await readFile(cluster.api.kubeconfigPath, 'utf8');
  await writeFile(path, text.replace(cluster.api.url, `${target.protocol}//127.0.0.1:${port}`));
  const kc = new KeepAliveKubeConfig();
  kc.loadFromFile(path);
  try {
    const core = kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 5; i++) await core.listNamespace();
    expect(connections).toBe(1);
    // and IPAM through it works as before: 10 pods at once, 10 distinct addresses
    const ipam = kubernetesIpam(kc);
    const got = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        ipam.allocate({ handle: `ka.${i}`, node: 'n1', ipv4: 1, ipv6: 0, attributes: {} }),
      ),
    );
    expect(new Set(got.map((a) => a.addresses[0]?.address)).size).toBe(10);
    expect(connections).toBeLessThanOrEqual(10);
  } finally {
    kc.closeConnections();
    await new Promise<void>((r) => relay.close(() => r()));
  }
}, 60_000);
