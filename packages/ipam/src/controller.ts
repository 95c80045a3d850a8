// The IPAM controller. Level-triggered: events only enqueue keys (node names, or the GC key);
// every reconcile reads current state from the API and makes it right, so a lost event or a
// dropped watch costs latency, never correctness. Garbage collection releases an address only
// after seeing its pod missing on two checks a grace period apart, and re-reading the pod right
// before the release; an address whose pod exists is never released.

import type { BlockAllocator } from './allocator.js';
import { addressOf, allocatedEntries, blockFamily, blockInUse, ordinalsForHandle } from './block.js';
import { affinityNode, cidrObjectName, handleObjectName } from './names.js';
import type { ClusterView } from './store.js';
import { AffinityState } from './types.js';
import { WorkQueue } from './workqueue.js';

export interface Clock {
  now(): number;
}

/** Something that tells the controller a node may have changed (informer, poller, test). */
export interface NodeEventSource {
  start(onNode: (name: string) => void): Promise<void>;
  stop(): Promise<void>;
}

export interface IpamControllerOptions {
  /** How long an address must stay without its pod before it is released. Default 15 min. */
  readonly gcGracePeriodMs?: number;
  /** How often garbage collection runs. Default 60 s. */
  readonly gcIntervalMs?: number;
  /** How long a surplus empty block of a live node stays before it is released. Default: the GC grace. */
  readonly emptyBlockGracePeriodMs?: number;
  /** Full resync (every node re-queued) interval. Default 5 min. */
  readonly resyncIntervalMs?: number;
  readonly clock?: Clock;
  readonly events?: NodeEventSource;
  readonly log?: (message: string) => void;
}

export interface GcReport {
  /** Addresses released because their pod (or node) was gone for the grace period. */
  readonly releasedAddresses: readonly string[];
  /** Addresses seen leaked but still inside the grace period. */
  readonly suspects: number;
  readonly deletedHandles: readonly string[];
  readonly releasedBlocks: readonly string[];
}

const GC_KEY = '\0gc';

export class IpamController {
  readonly allocator: BlockAllocator;
  readonly cluster: ClusterView;
  readonly #grace: number;
  readonly #blockGrace: number;
  readonly #gcInterval: number;
  readonly #resyncInterval: number;
  readonly #clock: Clock;
  readonly #events: NodeEventSource | undefined;
  readonly #log: (m: string) => void;
  readonly #queue: WorkQueue;
  /** First time each suspect was seen leaked, by `cidr#ordinal#handle` (or `handle:` / `block:`). */
  readonly #suspects = new Map<string, number>();
  #timers: NodeJS.Timeout[] = [];
  /** Errors of reconciles, for observability and tests. */
  readonly errors: { key: string; error: unknown }[] = [];

  constructor(allocator: BlockAllocator, cluster: ClusterView, opts: IpamControllerOptions = {}) {
    this.allocator = allocator;
    this.cluster = cluster;
    this.#grace = opts.gcGracePeriodMs ?? 15 * 60_000;
    this.#blockGrace = opts.emptyBlockGracePeriodMs ?? this.#grace;
    this.#gcInterval = opts.gcIntervalMs ?? 60_000;
    this.#resyncInterval = opts.resyncIntervalMs ?? 5 * 60_000;
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#events = opts.events;
    this.#log = opts.log ?? (() => {});
    this.#queue = new WorkQueue(
      (key) => (key === GC_KEY ? this.collectGarbage().then(() => {}) : this.reconcileNode(key)),
      (key, error) => {
        this.errors.push({ key, error });
        this.#log(`reconcile ${key === GC_KEY ? 'gc' : `node ${key}`} failed, will retry: ${String(error)}`);
        // Level-triggered retry: re-queue after a short, jittered pause.
        const t = setTimeout(() => this.#queue.add(key), 200 + Math.random() * 800);
        this.#timers.push(t);
      },
    );
  }

  async start(): Promise<void> {
    await this.#events?.start((name) => this.#queue.add(name));
    await this.resync();
    this.#timers.push(setInterval(() => this.#queue.add(GC_KEY), this.#gcInterval));
    this.#timers.push(setInterval(() => void this.resync().catch(() => {}), this.#resyncInterval));
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
    this.#queue.stop();
    await this.#events?.stop();
  }

  /** Queues every node that exists or still owns a block. */
  async resync(): Promise<void> {
    const [nodes, affs] = await Promise.all([this.cluster.listNodes(), this.allocator.store.affinities.list()]);
    for (const n of nodes) this.#queue.add(n.name);
    for (const a of affs) this.#queue.add(a.spec.node);
  }

  enqueueNode(name: string): void {
    this.#queue.add(name);
  }

  enqueueGc(): void {
    this.#queue.add(GC_KEY);
  }

  /** Resolves when the work queue is empty. */
  drained(): Promise<void> {
    return this.#queue.drained();
  }

  async reconcileNode(name: string): Promise<void> {
    const node = await this.cluster.getNode(name);
    if (node) {
      const claimed = await this.allocator.ensureNodeBlocks(name);
      if (claimed.length > 0) this.#log(`node ${name}: claimed ${claimed.join(', ')}`);
      return;
    }
    await this.#releaseNode(name);
  }

  /** A deleted node: free addresses whose pods are gone, then its empty blocks; blocks still
   * holding live pods' addresses lose their affinity and wait for the garbage collector. */
  async #releaseNode(name: string): Promise<void> {
    const store = this.allocator.store;
    const [affs, blocks] = await Promise.all([store.affinities.list(), store.blocks.list()]);
    const cidrs = new Set<string>();
    for (const a of affs) if (a.spec.node === name) cidrs.add(a.spec.cidr);
    for (const b of blocks) if (affinityNode(b.spec.affinity) === name) cidrs.add(b.spec.cidr);
    for (const cidr of cidrs) {
      const b = await store.blocks.get(cidrObjectName(cidr));
      if (b) {
        for (const { ordinal, attr } of allocatedEntries(b.spec)) {
          if (attr.handle_id === null) continue;
          const ns = attr.secondary?.namespace;
          const pod = attr.secondary?.pod;
          if (ns !== undefined && pod !== undefined && (await this.cluster.getPod(ns, pod)) !== undefined) continue;
          const addr = addressOf(b.spec, ordinal);
          if (await this.allocator.releaseAddress(addr, attr.handle_id)) {
            this.#log(`node ${name} gone: released ${addr} (${attr.handle_id})`);
          }
        }
      }
      if (await this.allocator.releaseBlockIfEmpty(cidr)) this.#log(`node ${name} gone: released block ${cidr}`);
      else await this.allocator.releaseAffinity(cidr);
    }
  }

  #suspect(key: string, now: number, seen: Set<string>): number {
    seen.add(key);
    const first = this.#suspects.get(key);
    if (first === undefined) {
      this.#suspects.set(key, now);
      return 0;
    }
    return now - first;
  }

  /**
   * One garbage-collection pass. Reads pods and nodes by direct LIST (an error aborts the pass:
   * a failed read must never look like "no pods"), marks leaked addresses, and releases those
   * that were already leaked a full grace period ago and whose pod a fresh GET still misses.
   */
  async collectGarbage(): Promise<GcReport> {
    const now = this.#clock.now();
    const store = this.allocator.store;
    const [pods, nodes] = await Promise.all([this.cluster.listPods(), this.cluster.listNodes()]);
    const [blocks, handles] = await Promise.all([store.blocks.list(), store.handles.list()]);
    const podSet = new Set(pods.map((p) => `${p.namespace}/${p.name}`));
    const nodeSet = new Set(nodes.map((n) => n.name));
    const seen = new Set<string>();
    const released: string[] = [];
    const deletedHandles: string[] = [];
    const releasedBlocks: string[] = [];
    const liveHandles = new Set<string>();

    for (const b of blocks) {
      for (const { ordinal, attr } of allocatedEntries(b.spec)) {
        if (attr.handle_id === null) continue;
        liveHandles.add(attr.handle_id);
        const ns = attr.secondary?.namespace;
        const pod = attr.secondary?.pod;
        const node = attr.secondary?.node;
        const hasPod = ns !== undefined && pod !== undefined;
        const leaked = hasPod ? !podSet.has(`${ns}/${pod}`) : node !== undefined && !nodeSet.has(node);
        if (!leaked) continue;
        const key = `${b.spec.cidr}#${ordinal}#${attr.handle_id}`;
        if (this.#suspect(key, now, seen) < this.#grace) continue;
        // Second look, straight from the API, right before acting.
        if (hasPod && (await this.cluster.getPod(ns, pod)) !== undefined) continue;
        if (!hasPod && node !== undefined && (await this.cluster.getNode(node)) !== undefined) continue;
        const addr = addressOf(b.spec, ordinal);
        if (await this.allocator.releaseAddress(addr, attr.handle_id)) {
          released.push(addr);
          this.#log(`gc: released leaked ${addr} (${attr.handle_id}, pod ${ns}/${pod})`);
        }
        this.#suspects.delete(key);
      }
    }

    // Handles that name no address (a crash between handle and block write, or a release cut
    // short): deleted after the grace period, if still empty on a fresh read.
    for (const h of handles) {
      if (liveHandles.has(h.spec.handleID)) continue;
      const key = `handle:${h.spec.handleID}`;
      if (this.#suspect(key, now, seen) < this.#grace) continue;
      const cur = await store.handles.get(h.name);
      if (!cur) continue;
      let holds = 0;
      for (const cidr of Object.keys(cur.spec.block)) {
        const b = await store.blocks.get(cidrObjectName(cidr));
        if (b) holds += ordinalsForHandle(b.spec, cur.spec.handleID).length;
      }
      if (holds === 0 && handleObjectName(cur.spec.handleID) === cur.name) {
        await store.handles.delete(cur.name, cur.resourceVersion);
        deletedHandles.push(cur.spec.handleID);
      }
      this.#suspects.delete(key);
    }

    // Empty blocks: unowned ones, and surplus ones of live nodes (each node keeps its first block
    // per family so that it can keep advertising), after the block grace period.
    const byNodeFamily = new Map<string, string[]>();
    for (const b of [...blocks].sort((x, y) => x.name.localeCompare(y.name))) {
      const owner = affinityNode(b.spec.affinity);
      if (owner !== undefined && !nodeSet.has(owner)) {
        this.#queue.add(owner); // a deleted node's leftovers: its reconcile handles them
        continue;
      }
      const k = `${owner ?? ''}/${blockFamily(b.spec)}`;
      const list = byNodeFamily.get(k) ?? [];
      list.push(b.spec.cidr);
      byNodeFamily.set(k, list);
      const keepFirst = owner !== undefined && list.length === 1;
      if (blockInUse(b.spec) > 0 || keepFirst) continue;
      const key = `block:${b.spec.cidr}`;
      if (this.#suspect(key, now, seen) < this.#blockGrace) continue;
      if (await this.allocator.releaseBlockIfEmpty(b.spec.cidr)) releasedBlocks.push(b.spec.cidr);
      this.#suspects.delete(key);
    }

    // Pending affinities whose claimer vanished before creating the block.
    const blockNames = new Set(blocks.map((b) => b.name));
    for (const a of await store.affinities.list()) {
      if (a.spec.state !== AffinityState.Pending || blockNames.has(a.name)) continue;
      const key = `pending:${a.name}`;
      if (this.#suspect(key, now, seen) < this.#grace) continue;
      if (!(await store.blocks.get(a.name))) await store.affinities.delete(a.name, a.resourceVersion);
      this.#suspects.delete(key);
    }

    // Forget suspects that recovered (pod came back, address reused, ...).
    for (const k of [...this.#suspects.keys()]) if (!seen.has(k)) this.#suspects.delete(k);
    return { releasedAddresses: released, suspects: this.#suspects.size, deletedHandles, releasedBlocks };
  }
}
