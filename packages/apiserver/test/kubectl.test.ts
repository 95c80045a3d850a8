import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryRun } from '@tortie/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { RunningApiServer } from '../src/index.js';
import { startApiServer } from '../src/index.js';
import { poolCrd, until } from './helpers.js';

let server: RunningApiServer;
let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tortie-kubectl-'));
  // kubectl sends bearer tokens only over TLS, hence tls: true.
  server = await startApiServer({ tls: true, kubeconfigPath: join(dir, 'kubeconfig') });
});
afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

// A private HOME and cache dir: no discovery cache shared between tests or with the user.
const kubectlArgs = (args: readonly string[]): string[] => [
  '--kubeconfig',
  server.kubeconfigPath,
  '--cache-dir',
  join(dir, 'cache'),
  ...args,
];
const kubectlEnv = (): Record<string, string> => ({ HOME: dir, KUBECONFIG: '' });

function kubectlSpawn(args: string[]) {
  return spawn('kubectl', kubectlArgs(args), {
    env: { ...process.env, ...kubectlEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function kubectl(...args: string[]): Promise<Result> {
  const r = await tryRun('kubectl', kubectlArgs(args), { env: kubectlEnv() });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, doc: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, stringify(doc));
  return p;
}

const widget = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'test.tortie.dev/v1',
  kind: 'Widget',
  metadata: { name, namespace: 'default' },
  spec,
});

describe('kubectl', () => {
  it('reports the client version (the one on these machines)', async () => {
    const r = await kubectl('version', '--client');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Client Version: v1\.\d+/);
  });

  it('applies a CRD and its objects, gets (table, yaml), watches, patches, deletes, and names the invalid field', async () => {
    const crd = await kubectl('apply', '-f', file('crd.yaml', poolCrd));
    expect(crd.stderr).toBe('');
    expect(crd.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/widgets.test.tortie.dev created');

    const created = await kubectl(
      'apply',
      '-f',
      file('w1.yaml', widget('w1', { cidr: '10.0.0.0/16', mode: 'Always' })),
    );
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('widget.test.tortie.dev/w1 created');

    const table = await kubectl('get', 'widgets');
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['NAME', 'CIDR', 'SIZE']);
    expect(row?.split(/\s+/)).toEqual(['w1', '10.0.0.0/16', '26']);
    const byShortName = await kubectl('get', 'wd', 'w1', '-o', 'yaml');
    expect(byShortName.stdout).toContain('cidr: 10.0.0.0/16');
    expect(byShortName.stdout).toContain('kubectl.kubernetes.io/last-applied-configuration');
    expect(byShortName.stdout).toMatch(/resourceVersion: "\d+"/);

    // Re-apply with a change: kubectl GETs, then sends a merge patch for a custom resource.
    const reapplied = await kubectl(
      'apply',
      '-f',
      file('w1.yaml', widget('w1', { cidr: '10.0.0.0/16', mode: 'Never' })),
    );
    expect(reapplied.stdout).toContain('widget.test.tortie.dev/w1 configured');

    // get -w sees a change made while it watches.
    const watcher = kubectlSpawn(['get', 'widgets', '-w', '--output-watch-events']);
    let watched = '';
    watcher.stdout.on('data', (d: Buffer) => {
      watched += d.toString();
    });
    await until('kubectl get -w lists', () => watched.includes('w1'), 20_000);
    const patched = await kubectl('patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":28}}');
    expect(patched.stdout).toContain('widget.test.tortie.dev/w1 patched');
    await until('kubectl get -w sees the patch', () => /MODIFIED\s+w1\s+10\.0\.0\.0\/16\s+28/.test(watched), 20_000);
    watcher.kill('SIGTERM');

    const bad = await kubectl(
      'apply',
      '-f',
      file('bad.yaml', widget('bad', { mode: 'Sometimes', cidr: '10.0.0.0/16' })),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The Widget "bad" is invalid');
    expect(bad.stderr).toContain('spec.mode: Unsupported value: "Sometimes"');
    const missing = await kubectl('apply', '-f', file('bad2.yaml', widget('bad2', { size: 24 })));
    expect(missing.stderr).toContain('spec.cidr: Required value');
    const unknown = await kubectl(
      'apply',
      '-f',
      file('bad3.yaml', widget('bad3', { cidr: '10.0.0.0/16', colour: 'blue' })),
    );
    expect(unknown.stderr).toContain('unknown field "spec.colour"');

    const described = await kubectl('describe', 'widget', 'w1');
    expect(described.stdout).toMatch(/Name:\s+w1/);

    const deleted = await kubectl('delete', 'widget', 'w1');
    expect(deleted.stdout).toContain('widget.test.tortie.dev "w1" deleted');
    const none = await kubectl('get', 'widgets');
    expect(none.stderr).toContain('No resources found');
  }, 60_000);

  it('applies, patches (strategic merge) and deletes core objects', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default', labels: { app: 'x' } },
      spec: {
        nodeName: 'n1',
        containers: [
          { name: 'a', image: 'one' },
          { name: 'b', image: 'two' },
        ],
      },
    };
    expect((await kubectl('apply', '-f', file('pod.yaml', pod))).stdout).toContain('pod/p created');
    const p = await kubectl('patch', 'pod', 'p', '-p', '{"spec":{"containers":[{"name":"b","image":"three"}]}}');
    expect(p.stdout).toContain('pod/p patched');
    const images = await kubectl('get', 'pod', 'p', '-o', 'jsonpath={.spec.containers[*].image}');
    expect(images.stdout).toBe('one three');
    const wide = await kubectl('get', 'pods', '-o', 'wide', '-l', 'app=x');
    expect(wide.stdout).toMatch(/p\s+Pending\s+\S+\s+<none>\s+n1/);
    expect((await kubectl('delete', 'pod', 'p')).stdout).toContain('pod "p" deleted');
  }, 60_000);
});
