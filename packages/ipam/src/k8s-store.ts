// IpamStore and ClusterView over the Kubernetes API (@kubernetes/client-node). Every update
// carries the resourceVersion that was read; API errors become the typed errors the allocator's
// retry logic understands (409 -> Conflict/AlreadyExists, 404 -> NotFound, 5xx/transport ->
// Transient). Nothing here retries by itself: the callers re-read before retrying.
import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, NotFoundError, TransientApiError } from './errors.js';
import { withRetries } from './retry.js';
import type {
  ClusterView,
  Collection,
  IpamStore,
  NodeInfo,
  PodInfo,
  StoredMeta,
  StoredStatus,
  Versioned,
} from './store.js';
import {
  type BlockAffinitySpec,
  type IPAMBlockSpec,
  type IPAMConfigSpec,
  type IPAMHandleSpec,
  type IPPoolSpec,
  TORTIE_API_GROUP,
  TORTIE_API_VERSION,
} from './types.js';

interface RawObject {
  metadata?: {
    name?: string;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
    finalizers?: string[];
    generation?: number;
  };
  spec?: unknown;
  status?: StoredStatus;
}

const isoOf = (t: string | Date | undefined): string | undefined =>
  t === undefined ? undefined : t instanceof Date ? t.toISOString() : t;

const statusOf = (e: unknown): number | undefined => (e instanceof ApiException ? e.code : undefined);

function mapError(e: unknown, kind: string, name: string): Error {
  const code = statusOf(e);
  if (code === 404) return new NotFoundError(kind, name);
  if (code === 409) return new ConflictError(kind, name);
  if (code === undefined || code >= 500 || code === 429) {
    return new TransientApiError(
      `${kind} ${name}: ${code === undefined ? 'request failed' : `HTTP ${code}`}: ${e instanceof Error ? e.message : String(e)}`,
      code,
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(String(e));
}

const READ_RETRY = { maxAttempts: 8, baseDelayMs: 10, maxDelayMs: 400 };

class KubernetesCollection<T> implements Collection<T> {
  readonly kind: string;
  readonly #plural: string;
  readonly #api: CustomObjectsApi;
  /** Spec updates by JSON patch (metadata such as finalizers kept) instead of PUT (replaced). */
  readonly #patchSpec: boolean;
  constructor(api: CustomObjectsApi, kind: string, plural: string, patchSpec = false) {
    this.#api = api;
    this.kind = kind;
    this.#plural = plural;
    this.#patchSpec = patchSpec;
  }
  #params(): { group: string; version: string; plural: string } {
    return { group: TORTIE_API_GROUP, version: TORTIE_API_VERSION, plural: this.#plural };
  }
  #wrap(raw: unknown): Versioned<T> {
    const o = raw as RawObject;
    const m = o.metadata ?? {};
    const created = isoOf(m.creationTimestamp);
    const deleting = isoOf(m.deletionTimestamp);
    const metadata: StoredMeta = {
      ...(created !== undefined ? { creationTimestamp: created } : {}),
      ...(deleting !== undefined ? { deletionTimestamp: deleting } : {}),
      ...(m.finalizers !== undefined ? { finalizers: m.finalizers } : {}),
      ...(m.generation !== undefined ? { generation: m.generation } : {}),
    };
    return {
      name: m.name ?? '',
      resourceVersion: m.resourceVersion ?? '',
      spec: (o.spec ?? {}) as T,
      metadata,
      ...(o.status !== undefined ? { status: o.status } : {}),
    };
  }
  /** A JSON patch whose first operation makes `resourceVersion` a precondition (409 when stale). */
  #conditional(resourceVersion: string, ops: object[]): object[] {
    return [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }, ...ops];
  }
  #body(name: string, spec: T, resourceVersion?: string): object {
    return {
      apiVersion: `${TORTIE_API_GROUP}/${TORTIE_API_VERSION}`,
      kind: this.kind,
      metadata: resourceVersion === undefined ? { name } : { name, resourceVersion },
      spec,
    };
  }
  // Reads are idempotent, so they retry transient failures (5xx, reset connections) here;
  // writes are retried by the allocator, which re-reads before every attempt.
  get(name: string): Promise<Versioned<T> | undefined> {
    return withRetries(`get ${this.kind} ${name}`, READ_RETRY, () => this.#get(name));
  }
  list(): Promise<Versioned<T>[]> {
    return withRetries(`list ${this.kind}`, READ_RETRY, () => this.#list());
  }
  async #get(name: string): Promise<Versioned<T> | undefined> {
    try {
      return this.#wrap(await this.#api.getClusterCustomObject({ ...this.#params(), name }));
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw mapError(e, this.kind, name);
    }
  }
  async #list(): Promise<Versioned<T>[]> {
    try {
      const res = (await this.#api.listClusterCustomObject(this.#params())) as { items?: unknown[] };
      return (res.items ?? []).map((i) => this.#wrap(i));
    } catch (e) {
      throw mapError(e, this.kind, '(list)');
    }
  }
  async create(name: string, spec: T): Promise<Versioned<T>> {
    try {
      return this.#wrap(await this.#api.createClusterCustomObject({ ...this.#params(), body: this.#body(name, spec) }));
    } catch (e) {
      if (statusOf(e) !== 409) throw mapError(e, this.kind, name);
      // A 409 on create means the name is taken, unless it was an injected/other conflict: look.
      if ((await this.get(name)) !== undefined) throw new AlreadyExistsError(this.kind, name);
      throw new ConflictError(this.kind, name);
    }
  }
  update(name: string, spec: T, resourceVersion: string): Promise<Versioned<T>> {
    if (this.#patchSpec) return this.#patch(name, resourceVersion, { op: 'replace', path: '/spec', value: spec });
    return this.#write(name, () =>
      this.#api.replaceClusterCustomObject({ ...this.#params(), name, body: this.#body(name, spec, resourceVersion) }),
    );
  }
  setFinalizers(name: string, finalizers: readonly string[], resourceVersion: string): Promise<Versioned<T>> {
    return this.#patch(name, resourceVersion, { op: 'add', path: '/metadata/finalizers', value: finalizers });
  }
  setStatus(name: string, status: StoredStatus, resourceVersion: string): Promise<Versioned<T>> {
    return this.#write(name, () =>
      this.#api.patchClusterCustomObjectStatus({
        ...this.#params(),
        name,
        body: this.#conditional(resourceVersion, [{ op: 'add', path: '/status', value: status }]),
      }),
    );
  }
  /** A JSON patch of one operation, conditional on `resourceVersion`. */
  #patch(name: string, resourceVersion: string, op: object): Promise<Versioned<T>> {
    return this.#write(name, () =>
      this.#api.patchClusterCustomObject({ ...this.#params(), name, body: this.#conditional(resourceVersion, [op]) }),
    );
  }
  /** A write whose answer is the object as stored; API errors become the store's typed errors. */
  async #write(name: string, call: () => Promise<unknown>): Promise<Versioned<T>> {
    try {
      return this.#wrap(await call());
    } catch (e) {
      throw mapError(e, this.kind, name);
    }
  }
  async delete(name: string, resourceVersion?: string): Promise<void> {
    try {
      await this.#api.deleteClusterCustomObject({
        ...this.#params(),
        name,
        ...(resourceVersion === undefined ? {} : { body: { preconditions: { resourceVersion } } }),
      });
    } catch (e) {
      if (statusOf(e) === 404) return;
      throw mapError(e, this.kind, name);
    }
  }
}

export const IPAM_PLURALS = {
  IPPool: 'ippools',
  IPAMBlock: 'ipamblocks',
  BlockAffinity: 'blockaffinities',
  IPAMHandle: 'ipamhandles',
  IPAMConfig: 'ipamconfigs',
} as const;

export class KubernetesStore implements IpamStore {
  readonly pools: Collection<IPPoolSpec>;
  readonly blocks: Collection<IPAMBlockSpec>;
  readonly affinities: Collection<BlockAffinitySpec>;
  readonly handles: Collection<IPAMHandleSpec>;
  readonly configs: Collection<IPAMConfigSpec>;
  constructor(kc: KubeConfig) {
    const api = kc.makeApiClient(CustomObjectsApi);
    this.pools = new KubernetesCollection(api, 'IPPool', IPAM_PLURALS.IPPool, true);
    this.blocks = new KubernetesCollection(api, 'IPAMBlock', IPAM_PLURALS.IPAMBlock);
    this.affinities = new KubernetesCollection(api, 'BlockAffinity', IPAM_PLURALS.BlockAffinity);
    this.handles = new KubernetesCollection(api, 'IPAMHandle', IPAM_PLURALS.IPAMHandle);
    this.configs = new KubernetesCollection(api, 'IPAMConfig', IPAM_PLURALS.IPAMConfig);
  }
}

interface RawNode {
  metadata?: { name?: string; labels?: Record<string, string> };
}
interface RawPod {
  metadata?: { name?: string; namespace?: string };
  spec?: { nodeName?: string };
}

const toNode = (n: RawNode): NodeInfo => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} });
const toPod = (p: RawPod): PodInfo => ({
  namespace: p.metadata?.namespace ?? 'default',
  name: p.metadata?.name ?? '',
  node: p.spec?.nodeName,
});

/** Direct reads (never an informer cache) so that an answer is authoritative or an error. */
export class KubernetesCluster implements ClusterView {
  readonly #api: CoreV1Api;
  constructor(kc: KubeConfig) {
    this.#api = kc.makeApiClient(CoreV1Api);
  }
  async listNodes(): Promise<NodeInfo[]> {
    try {
      return (await this.#api.listNode()).items.map((n) => toNode(n));
    } catch (e) {
      throw mapError(e, 'Node', '(list)');
    }
  }
  async getNode(name: string): Promise<NodeInfo | undefined> {
    try {
      return toNode(await this.#api.readNode({ name }));
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw mapError(e, 'Node', name);
    }
  }
  async listPods(): Promise<PodInfo[]> {
    try {
      return (await this.#api.listPodForAllNamespaces()).items.map((p) => toPod(p));
    } catch (e) {
      throw mapError(e, 'Pod', '(list)');
    }
  }
  async getPod(namespace: string, name: string): Promise<PodInfo | undefined> {
    try {
      return toPod(await this.#api.readNamespacedPod({ namespace, name }));
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw mapError(e, 'Pod', `${namespace}/${name}`);
    }
  }
}
