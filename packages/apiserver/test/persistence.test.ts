import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer } from '../src/index.js';
import { clientFor, raw } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('persistence', () => {
  it('keeps objects and monotonic resourceVersions across restart() and a fresh server on the data file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-apiserver-'));
    dirs.push(dir);
    const dataFile = join(dir, 'state.json');
    const server = await startApiServer({ dataFile });
    const core = clientFor(server).makeApiClient(k8s.CoreV1Api);
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'keep' }, data: { a: '1' } },
    });
    const rv = Number(cm.metadata?.resourceVersion);
    const url = server.url;
    await server.restart();
    expect(server.url).toBe(url);
    const again = await core.readNamespacedConfigMap({ name: 'keep', namespace: 'default' });
    expect(again.metadata?.resourceVersion).toBe(String(rv));
    expect(again.metadata?.uid).toBe(cm.metadata?.uid);
    const next = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'next' } } });
    expect(Number(next.metadata?.resourceVersion)).toBeGreaterThan(rv);
    await server.stop();

    // The file is whole JSON (written by rename), and a new server loads it.
    expect(JSON.parse(readFileSync(dataFile, 'utf8'))).toMatchObject({ format: 'tortie-apiserver/v1' });
    const second = await startApiServer({ dataFile, token: server.token });
    try {
      const list = await raw(second, 'GET', '/api/v1/namespaces/default/configmaps');
      const items = list.json.items as { metadata: { name: string } }[];
      expect(items.map((i) => i.metadata.name)).toEqual(['keep', 'next']);
      expect(Number((list.json.metadata as { resourceVersion: string }).resourceVersion)).toBe(
        Number(next.metadata?.resourceVersion),
      );
    } finally {
      await second.stop();
    }
  });

  it('runs as the tortie-apiserver command with --data and --token-file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-apiserver-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'kubeconfig');
    // The committed bin shim runs the built dist/ (`pnpm build` first, as CI does).
    const bin = join(import.meta.dirname, '..', 'bin', 'tortie-apiserver.js');
    if (!existsSync(join(import.meta.dirname, '..', 'dist', 'cli.js'))) {
      throw new Error('packages/apiserver/dist/cli.js is missing: run `pnpm build` before this test');
    }
    const run = async () => {
      const child = spawn(
        process.execPath,
        [
          bin,
          '--listen',
          '127.0.0.1:0',
          '--data',
          join(dir, 'data.json'),
          '--token-file',
          join(dir, 'token'),
          '--kubeconfig',
          kubeconfig,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
        });
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`tortie-apiserver exited ${code}: ${err}${out}`)));
      });
      return { child, url };
    };
    const first = await run();
    expect(first.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'lab' } } });
    first.child.kill('SIGTERM');
    await new Promise((r) => first.child.once('exit', r));
    const token = readFileSync(join(dir, 'token'), 'utf8').trim();
    const second = await run();
    try {
      const kc2 = new k8s.KubeConfig();
      kc2.loadFromFile(kubeconfig);
      expect(kc2.getCurrentUser()?.token).toBe(token);
      const ns = await kc2.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'lab' });
      expect(ns.status?.phase).toBe('Active');
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  });
});
