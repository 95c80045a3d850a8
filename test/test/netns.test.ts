import { describe, expect, it } from 'vitest';
import { Lab, listNamespaces, requireRoot, run, tryRun } from '../src/index.js';

requireRoot('the network-namespace kit tests');

async function processAlive(pid: number): Promise<boolean> {
  return (await tryRun('kill', ['-0', String(pid)])).exitCode === 0;
}

describe('Lab', () => {
  it('joins two namespaces with a veth, pings across, and leaves nothing behind', async () => {
    const hostLinksBefore = (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').length;
    let labId = '';
    let pid = 0;
    {
      await using lab = await Lab.create();
      labId = lab.id;
      const a = await lab.namespace('a');
      const b = await lab.namespace('b');
      await lab.veth(a, 'eth0', b, 'eth0', { aAddress: '192.0.2.1/24', bAddress: '192.0.2.2/24' });
      expect(await a.ping('192.0.2.2')).toBe(true);
      expect(await b.ping('192.0.2.1')).toBe(true);
      expect(await a.ping('192.0.2.3', 1, 1)).toBe(false);
      expect(await listNamespaces(lab.id)).toEqual(expect.arrayContaining([a.name, b.name]));
      const sleeper = b.spawn('sleep', ['300']);
      pid = sleeper.pid;
      expect(await processAlive(pid)).toBe(true);
      // the process really runs inside b
      const pids = await run('ip', ['netns', 'pids', b.name]);
      expect(pids.stdout.split(/\s+/)).toContain(String(pid));
    }
    expect(await listNamespaces(labId)).toEqual([]);
    expect(await processAlive(pid)).toBe(false);
    const hostLinksAfter = (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').length;
    expect(hostLinksAfter).toBe(hostLinksBefore);
  });

  it('cleans up when the test body throws', async () => {
    let labId = '';
    await expect(
      (async () => {
        await using lab = await Lab.create();
        labId = lab.id;
        await lab.namespace('x');
        throw new Error('test failed on purpose');
      })(),
    ).rejects.toThrow('on purpose');
    expect(labId).not.toBe('');
    expect(await listNamespaces(labId)).toEqual([]);
  });

  it('routes between two L2 segments through a router namespace', async () => {
    await using lab = await Lab.create();
    const left = await lab.segment('left');
    const right = await lab.segment('right');
    await lab.router('r', [
      { segment: left, ifname: 'eth0', address: '198.51.100.1/24' },
      { segment: right, ifname: 'eth1', address: '203.0.113.1/24' },
    ]);
    const h1 = await lab.namespace('h1');
    const h2 = await lab.namespace('h2');
    const h3 = await lab.namespace('h3');
    await lab.attach(h1, left, 'eth0', '198.51.100.10/24');
    await lab.attach(h3, left, 'eth0', '198.51.100.11/24');
    await lab.attach(h2, right, 'eth0', '203.0.113.10/24');
    await h1.ip(['route', 'add', 'default', 'via', '198.51.100.1']);
    await h2.ip(['route', 'add', 'default', 'via', '203.0.113.1']);
    // same segment: direct, through the bridge
    expect(await h1.ping('198.51.100.11')).toBe(true);
    // across segments: through the router
    expect(await h1.ping('203.0.113.10')).toBe(true);
    const trace = await h1.exec('ip', ['-j', 'route', 'get', '203.0.113.10']);
    expect(JSON.parse(trace.stdout)[0].gateway).toBe('198.51.100.1');
  });

  it('reports the output of a long-running process and stops it by PID', async () => {
    await using lab = await Lab.create();
    const ns = await lab.namespace('p');
    const p = ns.spawn('sh', ['-c', 'echo ready; exec sleep 300']);
    await p.waitForOutput(/ready/);
    const exit = await p.stop();
    expect(exit.signal).toBe('SIGTERM');
    expect(await processAlive(p.pid)).toBe(false);
  });

  it('rejects an interface name Linux would refuse', async () => {
    await using lab = await Lab.create();
    const a = await lab.namespace('a');
    const b = await lab.namespace('b');
    await expect(lab.veth(a, 'this-name-is-too-long', b, 'eth0')).rejects.toThrow(/1-15 characters/);
  });
});
