import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conflist, inClusterKubeconfig, install } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('install (DaemonSet init step)', () => {
  it('puts plugin, direct-API module, kubeconfig and conflist in place, atomically and idempotently', async () => {
    await using d = await tempDir();
    const src = join(d.path, 'src');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(src);
    await writeFile(join(src, 'tortie'), '\x7fELF front end v1\n');
    await writeFile(join(src, 'tortie-node'), '#!/usr/bin/env node\n// node plugin\n');
    await writeFile(join(src, 'tortie-direct.cjs'), 'module.exports = {};\n');
    await writeFile(join(src, 'tortie-podnet'), '\x7fELF pod-side helper');
    const binDir = join(d.path, 'opt/cni/bin');
    const confDir = join(d.path, 'etc/cni/net.d');
    const opts = {
      binDir,
      confDir,
      pluginSource: join(src, 'tortie'),
      kubeconfigContent: '{"apiVersion":"v1","kind":"Config"}',
      mtu: 1480,
      nodename: 'node-a',
    };
    const first = await install(opts);
    expect(first.changed.length).toBe(6);
    expect((await stat(join(binDir, 'tortie-node'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(binDir, 'tortie-podnet'))).mode & 0o777).toBe(0o755);
    expect((await stat(first.plugin)).mode & 0o777).toBe(0o755);
    expect((await stat(join(confDir, 'tortie-kubeconfig'))).mode & 0o777).toBe(0o600);
    const list = JSON.parse(await readFile(first.conflist, 'utf8')) as {
      cniVersion: string;
      plugins: { type: string; kubernetes?: { kubeconfig: string }; mtu?: number }[];
    };
    expect(list.plugins.map((p) => p.type)).toEqual(['tortie', 'portmap']);
    expect(list.plugins[0]?.kubernetes?.kubeconfig).toBe(join(confDir, 'tortie-kubeconfig'));
    expect(list.plugins[0]?.mtu).toBe(1480);
    // nothing changed: nothing rewritten (no events for the runtime's directory watch)
    expect((await install(opts)).changed).toEqual([]);
    // an upgrade replaces the file by rename: a process holding the old inode is unaffected
    const before = (await stat(first.plugin)).ino;
    await writeFile(join(src, 'tortie'), '\x7fELF front end v2\n');
    expect((await install(opts)).changed).toEqual([first.plugin]);
    expect((await stat(first.plugin)).ino).not.toBe(before);
    expect(await readFile(first.plugin, 'utf8')).toContain('v2');
    // no temporary files left behind
    expect((await readdir(binDir)).sort()).toEqual(['tortie', 'tortie-direct.cjs', 'tortie-node', 'tortie-podnet']);
    expect((await readdir(confDir)).sort()).toEqual(['10-tortie.conflist', 'tortie-kubeconfig']);
  });

  it('builds a kubeconfig from the service account', async () => {
    await using d = await tempDir();
    await writeFile(join(d.path, 'token'), 'tok\n');
    await writeFile(join(d.path, 'ca.crt'), 'CA');
    const kc = JSON.parse(
      await inClusterKubeconfig(d.path, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }),
    ) as { clusters: { cluster: { server: string } }[]; users: { user: { token: string } }[] };
    expect(kc.clusters[0]?.cluster.server).toBe('https://10.96.0.1:443');
    expect(kc.users[0]?.user.token).toBe('tok');
    await expect(inClusterKubeconfig(d.path, {})).rejects.toThrow(/KUBERNETES_SERVICE_HOST/);
  });

  it('the conflist speaks 1.0.0 (portmap) and offers 1.1.0', () => {
    expect(conflist({})).toMatchObject({ cniVersion: '1.0.0', cniVersions: ['1.0.0', '1.1.0'] });
  });
});
