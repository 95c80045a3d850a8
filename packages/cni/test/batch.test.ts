import { join } from 'node:path';
import { Lab, requireRoot } from '@tortie/testkit';
import { describe, expect, it } from 'vitest';
import { CniError, CniErrorCode, HostBatcher, PodBatcher, type PodOp } from '../src/index.js';
import { bundle, netnsPath, PKG } from './helpers.js';

// Only read-only `ip` lines (show), so nothing on the host running the tests changes.
describe('HostBatcher (host-side ip lines of concurrent pods in one ip -batch -force)', () => {
  it('groups what arrives while a batch runs, and fails only the jobs whose lines failed', async () => {
    const b = new HostBatcher();
    const settle = (lines: string[], what: string) =>
      b.run(lines, what).then(
        () => 'ok',
        (e: unknown) => e,
      );
    // the first runs at once on its own; the others queue behind it and share the second process
    const [a, fine, bad, dies, after] = await Promise.all([
      settle(['link show lo'], 'a'),
      settle(['link show lo'], 'fine'),
      settle(['link show lo', 'link show tortie-no-such-dev'], 'bad'),
      // ip exits on an argument it cannot parse without naming the line: every job after the last
      // named failure may not have run, so each of them fails (and its pod cleans up)
      settle(['route show table not-a-table'], 'dies'),
      settle(['link show lo'], 'after'),
    ]);
    expect(a).toBe('ok');
    expect(fine).toBe('ok');
    expect(bad).toBeInstanceOf(CniError);
    expect((bad as CniError).code).toBe(CniErrorCode.plumbingFailed);
    expect((bad as CniError).message).toMatch(/^bad failed: .*tortie-no-such-dev/);
    expect((bad as CniError).details).toBe('link show lo\nlink show tortie-no-such-dev');
    for (const e of [dies, after]) {
      expect(e).toBeInstanceOf(CniError);
      expect((e as CniError).message).toMatch(/not-a-table/);
    }
    expect(b.stats).toEqual({ batches: 2, jobs: 5, largest: 4 });
  });
});

describe.each([
  ['tortie-podnet (netlink, no exec)', true],
  ['sh + nsenter ip -batch per pod', false],
])('PodBatcher via %s', (_, helper) => {
  it('runs each pod in its own namespace and fails only the pods whose steps failed', async () => {
    requireRoot('the pod batch test (network namespaces)');
    await bundle();
    await using lab = await Lab.create();
    const pods = [];
    for (let i = 0; i < 4; i++) pods.push(await lab.namespace(`pb${i}`));
    const b = new PodBatcher(helper ? join(PKG, 'dist/bundle/tortie-podnet') : null);
    expect(b.usesHelper).toBe(helper);
    const settle = (ops: PodOp[], netns: string) =>
      b.run(ops, netns, `pod ${netns}`).then(
        () => 'ok',
        (e: unknown) => e,
      );
    const paths = pods.map(netnsPath);
    const rs = await Promise.all([
      settle([{ op: 'up', dev: 'lo' }], paths[0] ?? ''),
      settle(
        [
          { op: 'up', dev: 'lo' },
          { op: 'addr', dev: 'lo', address: '10.77.0.1', prefix: 32 },
        ],
        paths[1] ?? '',
      ),
      settle(
        [
          { op: 'up', dev: 'lo' },
          { op: 'up', dev: 'tortie-nope' },
        ],
        paths[2] ?? '',
      ),
      settle([{ op: 'up', dev: 'lo' }], '/run/netns/tortie-pod-batch-missing'),
      settle([{ op: 'addr', dev: 'lo', address: '10.77.0.3', prefix: 32 }], paths[3] ?? ''),
    ]);
    expect(rs[0]).toBe('ok');
    expect(rs[1]).toBe('ok');
    expect(rs[4]).toBe('ok');
    expect(rs[2]).toBeInstanceOf(CniError);
    expect((rs[2] as CniError).code).toBe(CniErrorCode.plumbingFailed);
    expect((rs[2] as CniError).message).toMatch(/tortie-nope/);
    expect((rs[2] as CniError).details).toBe('link set lo up\nlink set tortie-nope up');
    expect((rs[3] as CniError).message).toMatch(/cannot open .*ENOENT/);
    // each ran in its own namespace
    expect((await pods[1]?.exec('ip', ['-4', 'addr', 'show', 'dev', 'lo']))?.stdout).toContain('10.77.0.1/32');
    expect((await pods[3]?.exec('ip', ['-4', 'addr', 'show', 'dev', 'lo']))?.stdout).toContain('10.77.0.3/32');
    expect((await pods[0]?.exec('ip', ['-4', 'addr', 'show', 'dev', 'lo']))?.stdout).not.toContain('10.77.');
    expect((await pods[2]?.exec('ip', ['link', 'show', 'dev', 'lo']))?.stdout).toContain('UP');
    // the first ran alone, the other four shared one sh (the missing namespace never reached it)
    expect(b.stats).toEqual({ batches: 2, jobs: 4, largest: 3 });
  });
});
