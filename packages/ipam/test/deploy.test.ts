// deploy/: every manifest parses, is a well-formed Kubernetes object, and hangs together
// (selectors match their templates, service accounts and roles referenced exist, RBAC names only
// real verbs and resources). The embedded apiserver serves neither apps/v1 nor RBAC, so a server
// dry run cannot check these; whether the controller's role covers its calls is in process.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { IPAM_PLURALS, loadCrds, TORTIE_API_GROUP } from '../src/index.js';

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy');

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}
interface PodSpec {
  serviceAccountName?: string;
  hostNetwork?: boolean;
  initContainers?: { name: string; image: string; command: string[] }[];
  containers: { name: string; image: string; command: string[]; args?: string[] }[];
}
interface Workload extends Obj {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const files = readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml'));
const objects: Obj[] = files.flatMap((f) => loadAllYaml(readFileSync(join(DEPLOY, f), 'utf8')) as Obj[]);
const find = (kind: string, name: string): Obj | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

const KINDS: Record<string, { apiVersion: string; namespaced: boolean }> = {
  Namespace: { apiVersion: 'v1', namespaced: false },
  ServiceAccount: { apiVersion: 'v1', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', namespaced: true },
};
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const CORE = ['nodes', 'pods', 'secrets'];
const OURS = loadCrds().map((c) => (c.spec as { names: { plural: string } }).names.plural);

describe('deploy/ manifests', () => {
  it('parse into well-formed objects of known kinds, in tortie-system when namespaced', () => {
    expect(files.sort()).toEqual(['ipam-controller.yaml', 'namespace.yaml', 'node.yaml']);
    expect(objects.length).toBeGreaterThan(10);
    const names = new Set<string>();
    for (const o of objects) {
      const k = KINDS[o.kind];
      expect(k, `${o.kind} ${o.metadata?.name}`).toBeDefined();
      expect(o.apiVersion).toBe(k?.apiVersion);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      if (k?.namespaced) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('tortie-system');
      else expect(o.metadata.namespace).toBeUndefined();
      const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      expect(names.has(key), `duplicate ${key}`).toBe(false);
      names.add(key);
    }
    expect(find('Namespace', 'tortie-system')).toBeDefined();
  });

  it('workloads: selectors match templates, service accounts exist, containers run our programs', () => {
    const controller = find('Deployment', 'tortie-ipam-controller') as Workload;
    expect(controller.spec.replicas).toBe(1);
    const node = find('DaemonSet', 'tortie-node') as Workload;
    for (const w of [controller, node]) {
      expect(w.spec.template.metadata.labels).toMatchObject(w.spec.selector.matchLabels);
      const sa = w.spec.template.spec.serviceAccountName ?? '';
      expect(find('ServiceAccount', sa), `ServiceAccount ${sa}`).toBeDefined();
      expect(w.spec.template.spec.hostNetwork).toBe(true);
      for (const c of [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers]) {
        expect(c.image).toMatch(/^\S+:\S+$/);
        expect(c.command.length).toBeGreaterThan(0);
      }
    }
    expect(controller.spec.template.spec.containers[0]?.command).toEqual(['tortie-ipam-controller']);
    // No --kubeconfig: the in-cluster service account.
    expect(controller.spec.template.spec.containers[0]?.args).not.toContain('--kubeconfig');
    expect(node.spec.template.spec.initContainers?.[0]?.command.slice(0, 2)).toEqual(['tortie-cni', 'install']);
    expect(node.spec.template.spec.containers[0]?.command).toEqual(['tortie-cni', 'daemon']);
  });

  it('RBAC: bindings point at roles and service accounts that exist; rules name real verbs and resources', () => {
    for (const b of objects.filter((o) => o.kind.endsWith('Binding'))) {
      const ref = b.roleRef as { kind: string; name: string };
      expect(find(ref.kind, ref.name), `${b.kind} ${b.metadata.name} -> ${ref.kind} ${ref.name}`).toBeDefined();
      for (const s of b.subjects as { kind: string; name: string; namespace: string }[]) {
        expect(s.kind).toBe('ServiceAccount');
        expect(find('ServiceAccount', s.name)?.metadata.namespace).toBe(s.namespace);
      }
    }
    for (const r of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
      for (const rule of r.rules as Rule[]) {
        for (const v of rule.verbs) expect(VERBS, `${r.metadata.name}: verb ${v}`).toContain(v);
        expect(rule.verbs).not.toContain('*');
        for (const g of rule.apiGroups) {
          expect(['', TORTIE_API_GROUP]).toContain(g);
          for (const res of rule.resources) {
            const [base = '', sub] = res.split('/');
            expect(g === '' ? CORE : OURS, `${r.metadata.name}: ${g}/${res}`).toContain(base);
            if (sub !== undefined) expect(['status', 'finalizers']).toContain(sub);
          }
        }
      }
    }
    // The CNI daemon's role covers what it writes, and never releases blocks or touches pools.
    const cni = (find('ClusterRole', 'tortie-cni')?.rules ?? []) as Rule[];
    const grants = (res: string, verb: string) => cni.some((r) => r.resources.includes(res) && r.verbs.includes(verb));
    expect(grants(IPAM_PLURALS.IPAMBlock, 'update')).toBe(true);
    expect(grants(IPAM_PLURALS.IPAMHandle, 'create')).toBe(true);
    expect(grants(IPAM_PLURALS.IPAMBlock, 'delete')).toBe(false);
    expect(grants(IPAM_PLURALS.IPPool, 'patch')).toBe(false);
  });
});
