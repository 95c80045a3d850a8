// The storage boundary of the allocator. The allocator only sees these interfaces, so it imports
// no Kubernetes client; `KubernetesStore` implements them over the API, `MemoryStore` in memory
// with the same optimistic-concurrency semantics (for unit tests and dry runs).
import { AlreadyExistsError, ConflictError, NotFoundError, TransientApiError } from './errors.js';
import type { BlockAffinitySpec, IPAMBlockSpec, IPAMConfigSpec, IPAMHandleSpec, IPPoolSpec } from './types.js';

/** The object metadata the IPAM layer reads (pools: lifecycle and precedence). */
export interface StoredMeta {
  /** RFC 3339; an older pool wins an overlap. */
  readonly creationTimestamp?: string;
  /** Set once deletion was asked for; the object stays while finalizers remain. */
  readonly deletionTimestamp?: string;
  readonly finalizers?: readonly string[];
  readonly generation?: number;
}

/** A condition as in Kubernetes' metav1.Condition. */
export interface StoredCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/** Status as written by the controller (pools: conditions). */
export interface StoredStatus {
  readonly conditions?: readonly StoredCondition[];
}

export interface Versioned<T> {
  readonly name: string;
  readonly spec: T;
  readonly resourceVersion: string;
  readonly metadata?: StoredMeta;
  readonly status?: StoredStatus;
}

/** One resource kind. Writes are conditional: `update` and `delete` take the version read. */
export interface Collection<T> {
  readonly kind: string;
  get(name: string): Promise<Versioned<T> | undefined>;
  list(): Promise<Versioned<T>[]>;
  /** Throws AlreadyExistsError when the name is taken. */
  create(name: string, spec: T): Promise<Versioned<T>>;
  /** Throws ConflictError when `resourceVersion` is stale, NotFoundError when gone. */
  update(name: string, spec: T, resourceVersion: string): Promise<Versioned<T>>;
  /** Deletes if present; with `resourceVersion`, only that version (ConflictError otherwise).
   * An object with finalizers is only marked (deletionTimestamp) until the last one is removed. */
  delete(name: string, resourceVersion?: string): Promise<void>;
  /** Replaces metadata.finalizers (conditional). Removing the last one of an object being deleted
   * deletes it. Optional: a store without it gets no pool finalizers (deletions are immediate). */
  setFinalizers?(name: string, finalizers: readonly string[], resourceVersion: string): Promise<Versioned<T>>;
  /** Replaces the status (conditional; the status subresource in Kubernetes). Optional: a store
   * without it gets no pool conditions. */
  setStatus?(name: string, status: StoredStatus, resourceVersion: string): Promise<Versioned<T>>;
}

export interface IpamStore {
  readonly pools: Collection<IPPoolSpec>;
  readonly blocks: Collection<IPAMBlockSpec>;
  readonly affinities: Collection<BlockAffinitySpec>;
  readonly handles: Collection<IPAMHandleSpec>;
  readonly configs: Collection<IPAMConfigSpec>;
}

export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly node: string | undefined;
}

/** What the controller needs to know about the cluster besides IPAM objects. */
export interface ClusterView {
  /** Authoritative list (not a cache): an error must propagate, never read as "no nodes". */
  listNodes(): Promise<NodeInfo[]>;
  getNode(name: string): Promise<NodeInfo | undefined>;
  listPods(): Promise<PodInfo[]>;
  getPod(namespace: string, name: string): Promise<PodInfo | undefined>;
}

class MemoryCollection<T> implements Collection<T> {
  readonly kind: string;
  readonly #objects = new Map<string, Versioned<T>>();
  readonly #owner: MemoryStore;
  constructor(kind: string, owner: MemoryStore) {
    this.kind = kind;
    this.#owner = owner;
  }
  async get(name: string): Promise<Versioned<T> | undefined> {
    await this.#owner.tick(false);
    return this.#objects.get(name);
  }
  async list(): Promise<Versioned<T>[]> {
    await this.#owner.tick(false);
    return [...this.#objects.values()];
  }
  async create(name: string, spec: T): Promise<Versioned<T>> {
    await this.#owner.tick(true);
    if (this.#objects.has(name)) throw new AlreadyExistsError(this.kind, name);
    const obj: Versioned<T> = {
      name,
      spec: structuredClone(spec),
      resourceVersion: this.#owner.nextVersion(),
      metadata: { creationTimestamp: new Date(this.#owner.now()).toISOString() },
    };
    this.#objects.set(name, obj);
    return obj;
  }
  #current(name: string, resourceVersion: string): Versioned<T> {
    const cur = this.#objects.get(name);
    if (!cur) throw new NotFoundError(this.kind, name);
    if (cur.resourceVersion !== resourceVersion) throw new ConflictError(this.kind, name);
    return cur;
  }
  #put(obj: Versioned<T>): Versioned<T> {
    if (obj.metadata?.deletionTimestamp !== undefined && (obj.metadata.finalizers ?? []).length === 0) {
      this.#objects.delete(obj.name);
    } else {
      this.#objects.set(obj.name, obj);
    }
    return obj;
  }
  async update(name: string, spec: T, resourceVersion: string): Promise<Versioned<T>> {
    await this.#owner.tick(true);
    const cur = this.#current(name, resourceVersion);
    return this.#put({ ...cur, spec: structuredClone(spec), resourceVersion: this.#owner.nextVersion() });
  }
  async setFinalizers(name: string, finalizers: readonly string[], resourceVersion: string): Promise<Versioned<T>> {
    await this.#owner.tick(true);
    const cur = this.#current(name, resourceVersion);
    return this.#put({
      ...cur,
      metadata: { ...cur.metadata, finalizers: [...finalizers] },
      resourceVersion: this.#owner.nextVersion(),
    });
  }
  async setStatus(name: string, status: StoredStatus, resourceVersion: string): Promise<Versioned<T>> {
    await this.#owner.tick(true);
    const cur = this.#current(name, resourceVersion);
    return this.#put({ ...cur, status: structuredClone(status), resourceVersion: this.#owner.nextVersion() });
  }
  async delete(name: string, resourceVersion?: string): Promise<void> {
    await this.#owner.tick(true);
    const cur = this.#objects.get(name);
    if (!cur) return;
    if (resourceVersion !== undefined && cur.resourceVersion !== resourceVersion) {
      throw new ConflictError(this.kind, name);
    }
    if ((cur.metadata?.finalizers ?? []).length > 0) {
      if (cur.metadata?.deletionTimestamp !== undefined) return;
      this.#objects.set(name, {
        ...cur,
        metadata: { ...cur.metadata, deletionTimestamp: new Date(this.#owner.now()).toISOString() },
        resourceVersion: this.#owner.nextVersion(),
      });
      return;
    }
    this.#objects.delete(name);
  }
}

/** In-memory store with the API's concurrency semantics and a simple fault hook. */
export class MemoryStore implements IpamStore {
  readonly pools: Collection<IPPoolSpec> = new MemoryCollection<IPPoolSpec>('IPPool', this);
  readonly blocks: Collection<IPAMBlockSpec> = new MemoryCollection<IPAMBlockSpec>('IPAMBlock', this);
  readonly affinities: Collection<BlockAffinitySpec> = new MemoryCollection<BlockAffinitySpec>('BlockAffinity', this);
  readonly handles: Collection<IPAMHandleSpec> = new MemoryCollection<IPAMHandleSpec>('IPAMHandle', this);
  readonly configs: Collection<IPAMConfigSpec> = new MemoryCollection<IPAMConfigSpec>('IPAMConfig', this);
  #version = 0;
  #failWrites = 0;
  /** Writes that were refused by the fault hook. */
  injected = 0;

  nextVersion(): string {
    return String(++this.#version);
  }

  /** Clock for creation and deletion timestamps (tests inject one). */
  now: () => number = () => Date.now();

  /** The next `n` writes fail with a transient (500-like) error, before being applied. */
  failNextWrites(n: number): void {
    this.#failWrites += n;
  }

  /** Yields to the event loop so that concurrent callers interleave as they would over HTTP. */
  async tick(write: boolean): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    if (write && this.#failWrites > 0) {
      this.#failWrites--;
      this.injected++;
      throw new TransientApiError('injected fault', 500);
    }
  }
}

/** A ClusterView over plain maps, for unit tests. */
export class MemoryCluster implements ClusterView {
  readonly nodes = new Map<string, NodeInfo>();
  readonly pods = new Map<string, PodInfo>();
  failing = false;
  #check(): void {
    if (this.failing) throw new TransientApiError('cluster view unavailable (injected)', 500);
  }
  async listNodes(): Promise<NodeInfo[]> {
    this.#check();
    return [...this.nodes.values()];
  }
  async getNode(name: string): Promise<NodeInfo | undefined> {
    this.#check();
    return this.nodes.get(name);
  }
  async listPods(): Promise<PodInfo[]> {
    this.#check();
    return [...this.pods.values()];
  }
  async getPod(namespace: string, name: string): Promise<PodInfo | undefined> {
    this.#check();
    return this.pods.get(`${namespace}/${name}`);
  }
  addPod(p: PodInfo): void {
    this.pods.set(`${p.namespace}/${p.name}`, p);
  }
  deletePod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }
}
