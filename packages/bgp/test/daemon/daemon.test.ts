// tortie-bgpd as a process: config errors, SIGHUP reload resetting only changed neighbors,
// SIGTERM with Cease / Administrative Shutdown, the status command. Three daemons in namespaces.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, requireRoot, tryRun } from '@tortie/testkit';
import { describe, expect, it } from 'vitest';
import { TORTIE_BGPD_MAIN, TortieBgpd, tempDir, waitFor } from '../interop/harness.js';

const BIN = fileURLToPath(new URL('../../bin/tortie-bgpd.js', import.meta.url));

describe('tortie-bgpd', () => {
  it('refuses a bad config, naming the key, with exit code 2; --check accepts a good one', async () => {
    const dir = await tempDir('bgpd-cfg');
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'routerId: 192.0.2.2\nasn: 65002\nneighbors:\n  - { address: 192.0.2.1, asn: 65001 }\n  - { address: 192.0.2.3, asn: 65003, holdTime: 2 }\n',
    );
    const r = await tryRun(process.execPath, [BIN, '--config', bad]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('neighbors[1].holdTime: must be 0 or 3..65535, got 2');
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ routerId: '192.0.2.2', asn: 65002, listen: false }));
    const ok = await tryRun(process.execPath, [BIN, '--check', '--config', good]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('ok');
    const usage = await tryRun(process.execPath, [TORTIE_BGPD_MAIN, '--bogus']);
    expect(usage.exitCode).toBe(64);
    expect(usage.stderr).toContain('unknown argument "--bogus"');
  });

  it('reloads on SIGHUP resetting only the changed neighbor, and shuts down with Cease on SIGTERM', async () => {
    requireRoot('the tortie-bgpd process tests');
    await using lab = await Lab.create();
    const t = await lab.namespace('t');
    const p1 = await lab.namespace('p1');
    const p2 = await lab.namespace('p2');
    await lab.veth(t, 'e1', p1, 'e0', { aAddress: '10.0.1.1/24', bAddress: '10.0.1.2/24' });
    await lab.veth(t, 'e2', p2, 'e0', { aAddress: '10.0.2.1/24', bAddress: '10.0.2.2/24' });
    const peer = (addr: string, asn: number, hold = 30) => ({
      address: addr,
      asn,
      holdTime: hold,
      connectRetryTime: 1,
      families: ['ipv4-unicast'],
    });
    const tcfg = (hold2: number, advertise: string[]) => ({
      routerId: '10.0.1.1',
      asn: 65000,
      neighbors: [peer('10.0.1.2', 65001), { ...peer('10.0.2.2', 65002, hold2), passive: true }],
      advertise: advertise.map((prefix) => ({ prefix, communities: ['65000:1'] })),
    });
    const td = await TortieBgpd.start(t, tcfg(30, ['10.100.0.0/24']));
    const d1 = await TortieBgpd.start(p1, { routerId: '10.0.1.2', asn: 65001, neighbors: [peer('10.0.1.1', 65000)] });
    const d2 = await TortieBgpd.start(p2, {
      routerId: '10.0.2.2',
      asn: 65002,
      neighbors: [peer('10.0.2.1', 65000)],
      advertise: [{ prefix: '10.102.0.0/24' }],
    });
    try {
      await td.waitEstablished('10.0.1.2');
      await td.waitEstablished('10.0.2.2');
      // p2's route transits t to p1
      const r = await waitFor('10.102.0.0/24 at p1', async () =>
        (await d1.routes()).find((x) => x.prefix === '10.102.0.0/24'),
      );
      expect(r.paths[0]?.asPath).toBe('65000 65002');
      const before = await td.neighbors();
      const n1 = before.find((n) => n.address === '10.0.1.2')!;
      const n2 = before.find((n) => n.address === '10.0.2.2')!;
      expect(n1.prefixes).toEqual({ received: 0, accepted: 0, advertised: 2 });
      expect(n2.prefixes).toEqual({ received: 1, accepted: 1, advertised: 1 });

      // SIGHUP: p2's hold time changes (its session resets), a route is added (no reset for p1)
      await td.rewrite(tcfg(60, ['10.100.0.0/24', '10.100.1.0/24']));
      await new Promise((res) => setTimeout(res, 1100)); // establishedAt has 1 ms resolution; make a reset visible
      td.process.signal('SIGHUP');
      await waitFor('10.100.1.0/24 at p1', async () => (await d1.routes()).some((x) => x.prefix === '10.100.1.0/24'));
      await waitFor(
        'p2 re-established',
        async () => {
          const n = (await td.neighbors()).find((x) => x.address === '10.0.2.2')!;
          return n.state === 'Established' && n.establishedAt !== n2.establishedAt;
        },
        30_000,
      );
      const after = await td.neighbors();
      expect(after.find((n) => n.address === '10.0.1.2')?.establishedAt).toBe(n1.establishedAt);
      expect(td.process.output).toMatch(/neighbor 10\.0\.2\.2: session parameters changed/);
      expect(td.process.output).not.toMatch(/10\.0\.1\.2: Established ->/);

      // the status command, for people
      const table = await td.status([]);
      expect(table.split('\n')[0]).toMatch(/^NEIGHBOR\s+AS\s+STATE\s+UPTIME\s+RECEIVED\s+ACCEPTED\s+ADVERTISED/);
      expect(table).toMatch(/10\.0\.1\.2\s+65001\s+Established\s+\d\d:\d\d:\d\d\s+0\s+0\s+3/);
      const routes = await td.status(['--routes']);
      expect(routes).toMatch(/\*> 10\.102\.0\.0\/24\s+10\.0\.2\.2\s+10\.0\.2\.2\s+65002 i/);
      expect(routes).toMatch(/\*> 10\.100\.0\.0\/24\s+\S*\s+local\s+.*65000:1/);
      expect(JSON.parse(await td.status(['--routes', '--limit', '2', '-o', 'json']))).toHaveLength(2);
      const one = JSON.parse(await td.status(['--routes', '--prefix', '10.102.0.0/24', '-o', 'json']));
      expect(one.map((x: { prefix: string }) => x.prefix)).toEqual(['10.102.0.0/24']);

      // a broken config on SIGHUP is reported and the running one kept
      await writeFile(
        td.configPath,
        'routerId: 10.0.1.1\nasn: 65000\nneighbors: [{ address: 10.0.1.2, asn: 65001, holdTime: 1 }]\n',
      );
      td.process.signal('SIGHUP');
      await waitFor('reload refused', () =>
        /reload failed, keeping the running configuration: .*neighbors\[0\]\.holdTime: must be 0 or 3\.\.65535, got 1/s.test(
          td.process.output,
        ),
      );
      expect((await td.neighbors()).map((n) => n.state)).toEqual(['Established', 'Established']);

      // a connection from an address that is not a configured neighbor is refused at once
      await p2.ip(['addr', 'add', '10.0.2.3/24', 'dev', 'e0']);
      const probe = await p2.exec(process.execPath, [
        '-e',
        `const s = require('node:net').connect({ host: '10.0.2.1', port: 179, localAddress: '10.0.2.3' });
         let got = 0; s.on('data', (d) => { got += d.length; });
         s.on('error', () => {}); s.on('close', () => { console.log('closed ' + got); process.exit(0); });
         setTimeout(() => { console.log('open'); process.exit(0); }, 3000);`,
      ]);
      expect(probe.stdout.trim()).toBe('closed 0');
      expect(td.process.output).toMatch(/refused connection from 10\.0\.2\.3/);

      // SIGTERM: Cease / Administrative Shutdown (with the RFC 9003 message) to every neighbor, exit 0
      td.process.signal('SIGTERM');
      expect((await td.process.wait()).exitCode).toBe(0);
      const seen = await waitFor('p1 saw the shutdown', async () => {
        const n = (await d1.neighbors())[0]!;
        return n.state !== 'Established' && n.lastError ? n.lastError : undefined;
      });
      expect(seen).toMatch(/Administrative Shutdown/i);
      expect(seen).toContain('tortie-bgpd shutting down');
      await waitFor('p1 withdrew what t had sent', async () => (await d1.routes()).length === 0);
      void d2;
    } catch (e) {
      console.error(td.process.output.slice(-5000));
      throw e;
    }
  });
});
