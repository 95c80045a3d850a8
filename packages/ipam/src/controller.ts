// The IPAM controller. Level-triggered: events only enqueue keys (node names, or the GC key);
// every reconcile reads current state from the API and makes it right, so a lost event or a
// dropped watch costs latency, never correctness. Garbage collection releases an address only
// after seeing its pod missing on two checks a grace period apart, and re-reading the pod right
// before the release; an address whose pod exists is never released.

import type { BlockAllocator } from './allocator.js';
import { addressOf, allocatedEntries, blockFamily, blockInUse, ordinalsForHandle } from './block.js';
import { cidrContains, parseCidr } from './cidr.js';
import { affinityNode, cidrObjectName, handleObjectName } from './names.js';
import { POOL_FINALIZER } from './pools.js';
import type { ClusterView, StoredCondition, StoredStatus } from './store.js';
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
  /** Tells the controller an IPPool may have changed (an informer on ippools). */
  readonly poolEvents?: NodeEventSource;
  /** While a deleted pool still holds addresses, how often it is looked at again. Default 5 s. */
  readonly poolRecheckMs?: number;
  readonly log?: (message: string) => void;
}

export type ReconcileKind = 'node' | 'pool' | 'gc';

/** Counters behind the controller's /metrics. */
export interface ControllerMetrics {
  /** Reconciles started, by kind. */
  readonly reconciles: Record<ReconcileKind, number>;
  /** Reconciles failed (each retried), by kind. */
  readonly errors: Record<ReconcileKind, number>;
  /** Addresses released by garbage collection (pod gone for the grace period). */
  gcReleasedAddresses: number;
  /** Addresses released because their node was deleted and their pod was gone. */
  nodeReleasedAddresses: number;
  blocksClaimed: number;
  blocksReleased: number;
  /** Deleted pools whose finalizer was removed (no address left in use). */
  poolsFinalized: number;
}

/** Condition types the controller writes on IPPools. */
export const PoolCondition = { Valid: 'Valid', DeletionBlocked: 'DeletionBlocked' } as const;
export type PoolCondition = (typeof PoolCondition)[keyof typeof PoolCondition];

export interface GcReport {
  /** Addresses released because their pod (or node) was gone for the grace period. */
  readonly releasedAddresses: readonly string[];
  /** Addresses seen leaked but still inside the grace period. */
  readonly suspects: number;
  readonly deletedHandles: readonly string[];
  readonly releasedBlocks: readonly string[];
}

const GC_KEY = '\0gc';
const POOL_PREFIX = '\0pool:';
const kindOf = (key: string): ReconcileKind => (key === GC_KEY ? 'gc' : key.startsWith(POOL_PREFIX) ? 'pool' : 'node');
const describe = (key: string): string =>
  key === GC_KEY ? 'gc' : key.startsWith(POOL_PREFIX) ? `pool ${key.slice(POOL_PREFIX.length)}` : `node ${key}`;

export class IpamController {
  readonly allocator: BlockAllocator;
  readonly cluster: ClusterView;
  readonly #grace: number;
  readonly #blockGrace: number;
  readonly #gcInterval: number;
  readonly #resyncInterval: number;
  readonly #clock: Clock;
  readonly #events: NodeEventSource | undefined;
  readonly #poolEvents: NodeEventSource | undefined;
  readonly #poolRecheck: number;
  readonly #log: (m: string) => void;
  readonly #queue: WorkQueue;
  /** First time each suspect was seen leaked, by `cidr#ordinal#handle` (or `handle:` / `block:`). */
  readonly #suspects = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  /** Errors of reconciles, for observability and tests (the last 100). */
  readonly errors: { key: string; error: unknown }[] = [];
  readonly metrics: ControllerMetrics = {
    reconciles: { node: 0, pool: 0, gc: 0 },
    errors: { node: 0, pool: 0, gc: 0 },
    gcReleasedAddresses: 0,
    nodeReleasedAddresses: 0,
    blocksClaimed: 0,
    blocksReleased: 0,
    poolsFinalized: 0,
  };

  constructor(allocator: BlockAllocator, cluster: ClusterView, opts: IpamControllerOptions = {}) {
    this.allocator = allocator;
    this.cluster = cluster;
    this.#grace = opts.gcGracePeriodMs ?? 15 * 60_000;
    this.#blockGrace = opts.emptyBlockGracePeriodMs ?? this.#grace;
    this.#gcInterval = opts.gcIntervalMs ?? 60_000;
    this.#resyncInterval = opts.resyncIntervalMs ?? 5 * 60_000;
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#events = opts.events;
    this.#poolEvents = opts.poolEvents;
    this.#poolRecheck = opts.poolRecheckMs ?? 5_000;
    this.#log = opts.log ?? (() => {});
    this.#queue = new WorkQueue(
      (key) => {
        this.metrics.reconciles[kindOf(key)]++;
        if (key === GC_KEY) return this.collectGarbage().then(() => {});
        if (key.startsWith(POOL_PREFIX)) return this.reconcilePool(key.slice(POOL_PREFIX.length));
        return this.reconcileNode(key);
      },
      (key, error) => {
        this.metrics.errors[kindOf(key)]++;
        this.errors.push({ key, error });
        if (this.errors.length > 100) this.errors.shift();
        this.#log(`reconcile ${describe(key)} failed, will retry: ${String(error)}`);
        // Level-triggered retry: re-queue after a short, jittered pause.
        this.#later(200 + Math.random() * 800, () => this.#queue.add(key));
      },
    );
  }

  #later(ms: number, fn: () => void): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#events?.start((name) => this.#queue.add(name));
    // Validity depends on the other pools: any pool event looks at every pool again.
    await this.#poolEvents?.start((name) => {
      this.enqueuePool(name);
      void this.#queuePools().catch(() => {});
    });
    await this.resync();
    this.#timers.add(setInterval(() => this.#queue.add(GC_KEY), this.#gcInterval));
    this.#timers.add(setInterval(() => void this.resync().catch(() => {}), this.#resyncInterval));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#queue.stop();
    await Promise.all([this.#events?.stop(), this.#poolEvents?.stop()]);
  }

  /** Queues every node that exists or still owns a block, and every pool. */
  async resync(): Promise<void> {
    const [nodes, affs] = await Promise.all([this.cluster.listNodes(), this.allocator.store.affinities.list()]);
    for (const n of nodes) this.#queue.add(n.name);
    for (const a of affs) this.#queue.add(a.spec.node);
    await this.#queuePools();
  }

  async #queuePools(): Promise<void> {
    for (const p of await this.allocator.store.pools.list()) this.enqueuePool(p.name);
  }

  enqueuePool(name: string): void {
    this.#queue.add(POOL_PREFIX + name);
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
      this.metrics.blocksClaimed += claimed.length;
      for (const c of claimed) this.#log(`node ${name}: block ${c} given to node ${name}`);
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
            this.metrics.nodeReleasedAddresses++;
            this.#log(
              `node ${name} gone: released ${addr} (handle ${attr.handle_id}, pod ${ns ?? '?'}/${pod ?? '?'} gone)`,
            );
          }
        }
      }
      if (await this.allocator.releaseBlockIfEmpty(cidr)) {
        this.metrics.blocksReleased++;
        this.#log(`node ${name} gone: released block ${cidr}`);
      } else {
        await this.allocator.releaseAffinity(cidr);
        this.#log(`node ${name} gone: block ${cidr} unowned until its pods' addresses are released`);
      }
    }
  }

  /** When `key` was first seen leaked (undefined if it is not a suspect). */
  #since(key: string): string {
    const t = this.#suspects.get(key);
    return t === undefined ? '?' : new Date(t).toISOString();
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
   * One pool: keeps the finalizer on it, writes its Valid condition (False, naming the field,
   * when it is invalid or overlaps another pool: such a pool is never used), and carries out a
   * deletion asked for through the API: the pool already hands out nothing new (the allocator
   * treats it as disabled), its empty blocks and their affinities are released, and the finalizer
   * goes only when no address of the pool is in use; until then DeletionBlocked says which.
   */
  async reconcilePool(name: string): Promise<void> {
    const store = this.allocator.store;
    const pools = store.pools;
    // A store that cannot hold finalizers and status (a test double) gets no pool lifecycle.
    if (!pools.setFinalizers || !pools.setStatus) return;
    let cur = await pools.get(name);
    if (!cur) return;
    const deleting = cur.metadata?.deletionTimestamp !== undefined;
    const fins = cur.metadata?.finalizers ?? [];
    if (!deleting && !fins.includes(POOL_FINALIZER)) {
      cur = await pools.setFinalizers(name, [...fins, POOL_FINALIZER], cur.resourceVersion);
      this.#log(`pool ${name}: finalizer ${POOL_FINALIZER} added`);
    }
    const state = (await this.allocator.poolStates()).find((p) => p.name === name);
    const conditions: Omit<StoredCondition, 'lastTransitionTime'>[] = [];
    const generation = cur.metadata?.generation;
    const gen = generation === undefined ? {} : { observedGeneration: generation };
    if (state?.error) {
      const overlap = state.error.field === 'spec.cidr' && state.error.message.includes(' overlaps ');
      conditions.push({
        type: PoolCondition.Valid,
        status: 'False',
        reason: overlap ? 'Overlap' : 'Invalid',
        message: `${state.error.message}; this pool is not used until it is fixed`,
        ...gen,
      });
    } else {
      conditions.push({ type: PoolCondition.Valid, status: 'True', reason: 'Valid', message: 'pool is valid', ...gen });
    }
    if (deleting) {
      if (!fins.includes(POOL_FINALIZER)) return; // not ours to hold
      const waits = state?.pool ? await this.#drainPool(name, state.pool.spec.cidr) : [];
      if (waits.length === 0) {
        await pools.setFinalizers(
          name,
          fins.filter((f) => f !== POOL_FINALIZER),
          cur.resourceVersion,
        );
        this.metrics.poolsFinalized++;
        this.#log(`pool ${name}: deleted (no address in use, blocks released, finalizer removed)`);
        return;
      }
      const shown = waits.slice(0, 5).join(', ');
      conditions.push({
        type: PoolCondition.DeletionBlocked,
        status: 'True',
        reason: 'AddressesInUse',
        message: `deletion waits: ${waits.length} address${waits.length === 1 ? '' : 'es'} in use (${shown}${waits.length > 5 ? ', ...' : ''}); delete those pods, or let garbage collection free leaked addresses`,
        ...gen,
      });
      this.#later(this.#poolRecheck, () => this.enqueuePool(name));
    }
    await this.#writeConditions(name, cur, conditions);
  }

  /** Releases the empty blocks (and orphan affinities) of a pool being deleted; returns who still
   * holds an address in it (`ns/pod` or the handle). */
  async #drainPool(name: string, cidr: string): Promise<string[]> {
    const store = this.allocator.store;
    const pc = parseCidr(cidr);
    const inPool = (c: string): boolean => {
      const x = parseCidr(c);
      return cidrContains(pc, x.family, x.base);
    };
    const blocks = (await store.blocks.list()).filter((b) => inPool(b.spec.cidr));
    const waits: string[] = [];
    for (const b of blocks) {
      if (blockInUse(b.spec) === 0 && (await this.allocator.releaseBlockIfEmpty(b.spec.cidr))) {
        this.metrics.blocksReleased++;
        this.#log(
          `pool ${name} deleting: released empty block ${b.spec.cidr} (node ${affinityNode(b.spec.affinity) ?? 'none'})`,
        );
        continue;
      }
      const now = await store.blocks.get(b.name);
      if (!now) continue;
      for (const { attr } of allocatedEntries(now.spec)) {
        const s = attr.secondary ?? {};
        waits.push(
          s.namespace !== undefined && s.pod !== undefined
            ? `${s.namespace}/${s.pod}`
            : `handle ${attr.handle_id ?? '?'}`,
        );
      }
      if (blockInUse(now.spec) === 0) waits.push(`block ${now.spec.cidr} being released`);
    }
    const blockNames = new Set(blocks.map((b) => b.name));
    for (const a of await store.affinities.list()) {
      if (!inPool(a.spec.cidr) || blockNames.has(a.name) || (await store.blocks.get(a.name))) continue;
      await store.affinities.delete(a.name, a.resourceVersion);
      this.#log(`pool ${name} deleting: released affinity of ${a.spec.cidr} (node ${a.spec.node})`);
    }
    return waits.sort();
  }

  async #writeConditions(
    name: string,
    cur: { readonly resourceVersion: string; readonly status?: StoredStatus },
    want: readonly Omit<StoredCondition, 'lastTransitionTime'>[],
  ): Promise<void> {
    const old = cur.status?.conditions ?? [];
    const now = new Date(this.#clock.now()).toISOString();
    const next: StoredCondition[] = want.map((c) => {
      const prev = old.find((o) => o.type === c.type);
      return { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now };
    });
    const same =
      next.length === old.length &&
      next.every((c) => {
        const o = old.find((x) => x.type === c.type);
        return (
          o !== undefined &&
          o.status === c.status &&
          o.reason === c.reason &&
          o.message === c.message &&
          o.observedGeneration === c.observedGeneration
        );
      });
    if (same) return;
    await this.allocator.store.pools.setStatus?.(
      name,
      { ...(cur.status ?? {}), conditions: next },
      cur.resourceVersion,
    );
    for (const c of next) {
      const o = old.find((x) => x.type === c.type);
      if (o?.message !== c.message || o.status !== c.status) {
        this.#log(`pool ${name}: ${c.type}=${c.status} (${c.reason}): ${c.message}`);
      }
    }
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
          this.metrics.gcReleasedAddresses++;
          this.#log(
            hasPod
              ? `gc: address ${addr} released (handle ${attr.handle_id}): pod ${ns}/${pod} gone since ${this.#since(key)}`
              : `gc: address ${addr} released (handle ${attr.handle_id}): node ${node} gone since ${this.#since(key)}`,
          );
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
      if (await this.allocator.releaseBlockIfEmpty(b.spec.cidr)) {
        releasedBlocks.push(b.spec.cidr);
        this.metrics.blocksReleased++;
        this.#log(`gc: empty block ${b.spec.cidr} (node ${owner ?? 'none'}) released`);
      }
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
