import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningApiServer } from '../src/index.js';
import { startApiServer } from '../src/index.js';
import { clientFor, failure, poolCrd, raw } from './helpers.js';

let server: RunningApiServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;

beforeEach(async () => {
  server = await startApiServer();
  kc = clientFor(server);
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
});
afterEach(async () => {
  await server.stop();
});

const widget = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'test.tortie.dev/v1',
  kind: 'Widget',
  metadata: { name },
  spec,
});
const W = { group: 'test.tortie.dev', version: 'v1', namespace: 'default', plural: 'widgets' };

describe('core objects through client-node', () => {
  it('creates, gets, lists with selectors and pages, and rejects duplicates with AlreadyExists', async () => {
    for (const [name, node] of [
      ['a', 'n1'],
      ['b', 'n2'],
      ['c', 'n1'],
    ] as const) {
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name, labels: { app: name === 'b' ? 'y' : 'x' } },
          spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] },
        },
      });
    }
    const got = await core.readNamespacedPod({ name: 'a', namespace: 'default' });
    expect(got.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.status?.phase).toBe('Pending');

    const onN1 = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' });
    expect(onN1.items.map((p) => p.metadata?.name)).toEqual(['a', 'c']);
    const labelled = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app in (x),app!=y' });
    expect(labelled.items.map((p) => p.metadata?.name)).toEqual(['a', 'c']);
    const byName = await core.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.name=b' });
    expect(byName.items.map((p) => p.metadata?.name)).toEqual(['b']);

    const page1 = await core.listNamespacedPod({ namespace: 'default', limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(page1.metadata?.remainingItemCount).toBe(1);
    const page2 = await core.listNamespacedPod({
      namespace: 'default',
      limit: 2,
      _continue: page1.metadata?._continue ?? '',
    });
    expect(page2.items.map((p) => p.metadata?.name)).toEqual(['c']);
    expect(page2.metadata?._continue).toBeUndefined();

    const dup = await failure(
      core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'a' }, spec: { containers: [] } } }),
    );
    expect(dup.code).toBe(409);
    expect(dup.status.reason).toBe('AlreadyExists');
    const missing = await failure(core.readNamespacedPod({ name: 'zz', namespace: 'default' }));
    expect(missing).toMatchObject({ code: 404, status: { reason: 'NotFound', message: 'pods "zz" not found' } });
    const noNs = await failure(
      core.createNamespacedConfigMap({ namespace: 'nope', body: { metadata: { name: 'x' } } }),
    );
    expect(noNs).toMatchObject({ code: 404, status: { message: 'namespaces "nope" not found' } });
  });

  it('generates names, updates with optimistic concurrency and patches three ways', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { generateName: 'cfg-' }, data: { a: '1' } },
    });
    const name = cm.metadata?.name ?? '';
    expect(name).toMatch(/^cfg-[a-z0-9]{5}$/);
    const updated = await core.replaceNamespacedConfigMap({
      name,
      namespace: 'default',
      body: { ...cm, data: { a: '2' } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    const stale = await failure(
      core.replaceNamespacedConfigMap({ name, namespace: 'default', body: { ...cm, data: { a: '3' } } }),
    );
    expect(stale.code).toBe(409);
    expect(stale.status.reason).toBe('Conflict');
    expect(String(stale.status.message)).toContain('the object has been modified');

    const merged = await core.patchNamespacedConfigMap(
      { name, namespace: 'default', body: { data: { b: 'x', a: null } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ b: 'x' });
    const jsonPatched = await core.patchNamespacedConfigMap(
      { name, namespace: 'default', body: [{ op: 'add', path: '/data/c', value: 'y' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.data).toEqual({ b: 'x', c: 'y' });
    const pod = await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'p' },
        spec: {
          containers: [
            { name: 'a', image: 'one' },
            { name: 'b', image: 'two' },
          ],
        },
      },
    });
    expect(pod.spec?.containers).toHaveLength(2);
    const smp = await core.patchNamespacedPod(
      { name: 'p', namespace: 'default', body: { spec: { containers: [{ name: 'b', image: 'three' }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(smp.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['a=one', 'b=three']);
    // A no-op write keeps the resourceVersion.
    const same = await core.replaceNamespacedPod({ name: 'p', namespace: 'default', body: smp });
    expect(same.metadata?.resourceVersion).toBe(smp.metadata?.resourceVersion);
  });

  it('holds deletion for finalizers and cascades to owned objects', async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'owner', finalizers: ['tortie.dev/hold'] } },
    });
    await core.createNamespacedSecret({
      namespace: 'default',
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: 'default' });
    const held = await core.readNamespacedConfigMap({ name: 'owner', namespace: 'default' });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    expect((await core.readNamespacedSecret({ name: 'owned', namespace: 'default' })).metadata?.name).toBe('owned');
    await core.patchNamespacedConfigMap(
      { name: 'owner', namespace: 'default', body: { metadata: { finalizers: null } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect((await failure(core.readNamespacedConfigMap({ name: 'owner', namespace: 'default' }))).code).toBe(404);
    expect((await failure(core.readNamespacedSecret({ name: 'owned', namespace: 'default' }))).code).toBe(404);
  });
});

describe('namespaces', () => {
  it('deletes a namespace with its contents, refusing new content while it terminates', async () => {
    await core.createNamespace({ body: { metadata: { name: 'lab' } } });
    await core.createNamespacedConfigMap({ namespace: 'lab', body: { metadata: { name: 'plain' } } });
    await core.createNamespacedConfigMap({
      namespace: 'lab',
      body: { metadata: { name: 'held', finalizers: ['tortie.dev/x'] } },
    });
    await core.deleteNamespace({ name: 'lab' });
    expect((await failure(core.readNamespacedConfigMap({ name: 'plain', namespace: 'lab' }))).code).toBe(404);
    const ns = await core.readNamespace({ name: 'lab' });
    expect(ns.status?.phase).toBe('Terminating');
    const refused = await failure(
      core.createNamespacedConfigMap({ namespace: 'lab', body: { metadata: { name: 'new' } } }),
    );
    expect(refused).toMatchObject({ code: 403, status: { reason: 'Forbidden' } });
    await core.patchNamespacedConfigMap(
      { name: 'held', namespace: 'lab', body: { metadata: { finalizers: null } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect((await failure(core.readNamespace({ name: 'lab' }))).code).toBe(404);
  });
});

describe('custom resources', () => {
  it('serves a CRD at once, defaults and validates against its schema with the field named', async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    expect((await raw(server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', poolCrd)).status).toBe(
      201,
    );
    const crd = await ext.readCustomResourceDefinition({ name: 'widgets.test.tortie.dev' });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');

    const created = (await custom.createNamespacedCustomObject({
      ...W,
      body: widget('w1', { cidr: '10.0.0.0/16', junk: 1 }),
    })) as {
      spec: Record<string, unknown>;
      metadata: { resourceVersion: string };
    };
    expect(created.spec).toEqual({ cidr: '10.0.0.0/16', size: 26 }); // defaulted, unknown field pruned

    const cases: [Record<string, unknown>, string, string][] = [
      [{}, 'spec.cidr', 'Required value'],
      [{ cidr: 'nope' }, 'spec.cidr', 'must be of type cidr'],
      [{ cidr: '10.0.0.0/8', size: 'big' }, 'spec.size', 'must be of type integer'],
      [{ cidr: '10.0.0.0/8', size: 8 }, 'spec.size', 'should be greater than or equal to 20'],
      [{ cidr: '10.0.0.0/8', mode: 'Sometimes' }, 'spec.mode', 'Unsupported value: "Sometimes"'],
      [{ cidr: '10.0.0.0/8', name: 'A1' }, 'spec.name', "should match '^[a-z]+$'"],
      [{ cidr: '10.0.0.0/8', tags: ['a', 'b', 'c', 'd'] }, 'spec.tags', 'must have at most 3 items'],
    ];
    for (const [spec, field, text] of cases) {
      const f = await failure(custom.createNamespacedCustomObject({ ...W, body: widget('bad', spec) }));
      expect(f.code).toBe(422);
      expect(f.status.reason).toBe('Invalid');
      const causes = (f.status.details as { causes: { field: string; message: string }[] }).causes;
      expect(causes.map((c) => c.field)).toContain(field);
      expect(String(f.status.message)).toContain(`${field}: `);
      expect(String(f.status.message)).toContain(text);
    }

    // The status subresource: the main resource ignores status, /status ignores the rest.
    const withStatus = await custom.replaceNamespacedCustomObject({
      ...W,
      name: 'w1',
      body: { ...created, spec: { cidr: '10.0.0.0/16', size: 27 }, status: { used: 3 } },
    });
    expect(withStatus).not.toHaveProperty('status');
    expect((withStatus as { metadata: { generation: number } }).metadata.generation).toBe(2);
    const status = (await custom.replaceNamespacedCustomObjectStatus({
      ...W,
      name: 'w1',
      body: { ...(withStatus as object), status: { used: 3 } },
    })) as { status: unknown; metadata: { generation: number } };
    expect(status.status).toEqual({ used: 3 });
    expect(status.metadata.generation).toBe(2);

    // Custom resources refuse updates without a resourceVersion, as kube-apiserver does.
    const noRv = await failure(
      custom.replaceNamespacedCustomObject({ ...W, name: 'w1', body: widget('w1', { cidr: '10.0.0.0/16' }) }),
    );
    expect(noRv.code).toBe(422);

    // Deleting the CRD takes its objects and its endpoint with it.
    await ext.deleteCustomResourceDefinition({ name: 'widgets.test.tortie.dev' });
    expect((await failure(custom.listNamespacedCustomObject(W))).code).toBe(404);
  });

  it('serves cluster-scoped CRDs', async () => {
    const crd = structuredClone(poolCrd);
    crd.spec.scope = 'Cluster';
    expect((await raw(server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(
      201,
    );
    const G = { group: 'test.tortie.dev', version: 'v1', plural: 'widgets' };
    await custom.createClusterCustomObject({ ...G, body: widget('c1', { cidr: '10.1.0.0/16' }) });
    const list = (await custom.listClusterCustomObject(G)) as {
      items: { metadata: { name: string; namespace?: string } }[];
    };
    expect(list.items.map((i) => i.metadata.name)).toEqual(['c1']);
    expect(list.items[0]?.metadata.namespace).toBeUndefined();
    expect((await failure(custom.listNamespacedCustomObject({ ...G, namespace: 'default' }))).code).toBe(404);
  });
});

describe('access', () => {
  it('answers 401 without the token and listens on loopback only', async () => {
    const res = await fetch(`${server.url}/api/v1/namespaces`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const wrong = await fetch(`${server.url}/version`, { headers: { Authorization: 'Bearer wrong' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${server.url}/version`, { headers: { Authorization: `Bearer ${server.token}` } });
    expect(ok.status).toBe(200);
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    // Nothing answers on the same port on another local address.
    const { networkInterfaces } = await import('node:os');
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (other) {
      const port = new URL(server.url).port;
      await expect(fetch(`http://${other}:${port}/version`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    }
  });
});
