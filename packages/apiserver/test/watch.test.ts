import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningApiServer } from '../src/index.js';
import { startApiServer } from '../src/index.js';
import { clientFor, failure, raw, until } from './helpers.js';

let server: RunningApiServer;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;

beforeEach(async () => {
  server = await startApiServer({ bookmarkIntervalMs: 100 });
  kc = clientFor(server);
  core = kc.makeApiClient(k8s.CoreV1Api);
});
afterEach(async () => {
  await server.stop();
});

/** The informer's view: name -> data.v, which must converge to the server's. */
function view(informer: k8s.Informer<k8s.V1ConfigMap> & k8s.ObjectCache<k8s.V1ConfigMap>): Record<string, string> {
  return Object.fromEntries(informer.list('default').map((c) => [c.metadata?.name ?? '', c.data?.v ?? '']));
}

describe('watch', () => {
  it('makeInformer sees every change, and relists after dropped watches and compaction (410)', async () => {
    let lists = 0;
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: 'default' });
    });
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name}=${o.data?.v}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    informer.on('error', () => {
      // The informer stops on errors other than 410; restart it as a controller would.
      setTimeout(() => void informer.start(), 50);
    });
    await informer.start();

    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a' }, data: { v: '1' } } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'b' }, data: { v: '1' } } });
    await core.patchNamespacedConfigMap(
      { name: 'a', namespace: 'default', body: { data: { v: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'b', namespace: 'default' });
    await until('informer events', () => seen.length === 4);
    expect(seen).toEqual(['add a', 'add b', 'update a=2', 'delete b']);

    // A write elsewhere moves the resourceVersion past the informer's; compaction then makes the
    // informer's version too old, so its reconnect after the drop gets 410 and it must relist.
    expect(lists).toBe(1);
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'elsewhere' } } });
    server.faults.compact();
    server.faults.dropWatches();
    await until('relist after 410', () => lists === 2);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c' }, data: { v: '1' } } });
    await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'default' });
    await until('informer converges', () => JSON.stringify(view(informer)) === JSON.stringify({ c: '1' }));
    expect(seen).toContain('add c');
    expect(seen).toContain('delete a');
    await informer.stop();
  });

  it('streams ADDED, MODIFIED, DELETED and BOOKMARK from a resourceVersion, and 410 when it is too old', async () => {
    const first = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'x' } } });
    const rv = first.metadata?.resourceVersion ?? '';
    await core.patchNamespacedConfigMap(
      { name: 'x', namespace: 'default', body: { data: { k: 'v' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const events: { type: string; rv: string }[] = [];
    const watch = new k8s.Watch(kc);
    let ended = false;
    const req = await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: rv, allowWatchBookmarks: true },
      (type, obj: k8s.V1ConfigMap) => events.push({ type, rv: obj.metadata?.resourceVersion ?? '' }),
      () => {
        ended = true;
      },
    );
    await core.deleteNamespacedConfigMap({ name: 'x', namespace: 'default' });
    await until('bookmark', () => events.some((e) => e.type === 'BOOKMARK'));
    const kinds = events.map((e) => e.type).filter((t) => t !== 'BOOKMARK');
    expect(kinds).toEqual(['MODIFIED', 'DELETED']);
    const rvs = events.filter((e) => e.type !== 'BOOKMARK').map((e) => Number(e.rv));
    expect(rvs[0]).toBeGreaterThan(Number(rv));
    expect(rvs[1]).toBeGreaterThan(rvs[0] ?? 0);
    server.faults.dropWatches();
    await until('watch ended', () => ended);
    req.abort();

    server.faults.compact();
    const gone: { type: string; code?: number }[] = [];
    await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: rv },
      (type, obj: { code?: number }) => gone.push({ type, ...(obj.code === undefined ? {} : { code: obj.code }) }),
      () => {},
    );
    await until('410', () => gone.length > 0);
    expect(gone[0]).toEqual({ type: 'ERROR', code: 410 });
  });

  it('gives one winner per resourceVersion among 20 concurrent updaters', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'counter' }, data: { n: '0' } },
    });
    const clients = Array.from({ length: 20 }, () => clientFor(server).makeApiClient(k8s.CoreV1Api));
    const base = await core.readNamespacedConfigMap({ name: 'counter', namespace: 'default' });
    // Round 1: all 20 write against the same version; exactly one wins.
    const results = await Promise.allSettled(
      clients.map((c, i) =>
        c.replaceNamespacedConfigMap({
          name: 'counter',
          namespace: 'default',
          body: { ...base, data: { n: String(i + 1) } },
        }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const l of lost) expect((l as PromiseRejectedResult).reason).toMatchObject({ code: 409 });

    // Then every client increments with retries: the count ends exact, each version written once.
    const versions = new Set<string>();
    let conflicts = 0;
    await Promise.all(
      clients.map(async (c) => {
        for (;;) {
          const cur = await c.readNamespacedConfigMap({ name: 'counter', namespace: 'default' });
          try {
            const out = await c.replaceNamespacedConfigMap({
              name: 'counter',
              namespace: 'default',
              body: { ...cur, data: { n: String(Number(cur.data?.n) + 1) } },
            });
            const v = out.metadata?.resourceVersion ?? '';
            expect(versions.has(v)).toBe(false);
            versions.add(v);
            return;
          } catch (e) {
            expect(e).toMatchObject({ code: 409 });
            conflicts++;
          }
        }
      }),
    );
    const end = await core.readNamespacedConfigMap({ name: 'counter', namespace: 'default' });
    const winner = Number((won[0] as PromiseFulfilledResult<k8s.V1ConfigMap>).value.data?.n);
    expect(Number(end.data?.n)).toBe(winner + 20);
    expect(versions.size).toBe(20);
    expect(conflicts).toBeGreaterThan(0);
  });
});

describe('faults', () => {
  it('fails the next writes with 409 or 500 as proper Status objects, and delays responses', async () => {
    server.faults.failNextWrites(2, 500);
    const a = await failure(
      core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'f' } } }),
    );
    expect(a).toMatchObject({ code: 500, status: { kind: 'Status', reason: 'InternalError' } });
    const b = await failure(core.deleteNamespacedConfigMap({ name: 'f', namespace: 'default' }));
    expect(b.code).toBe(500);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'f' } } });
    server.faults.failNextWrites(1, 409);
    const c = await failure(
      core.patchNamespacedConfigMap(
        { name: 'f', namespace: 'default', body: { data: { a: 'b' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
    expect(c).toMatchObject({ code: 409, status: { reason: 'Conflict' } });
    // Reads are never failed.
    expect((await raw(server, 'GET', '/api/v1/namespaces/default/configmaps/f')).status).toBe(200);
    server.faults.setDelay(300);
    const t0 = Date.now();
    await core.readNamespacedConfigMap({ name: 'f', namespace: 'default' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    server.faults.setDelay(0);
  });
});
