// The allocator: block selection (affine, then claim, then borrow), idempotent allocation per
// handle, release, and pool administration. It talks only to the IpamStore interface.
//
// Correctness rests on three rules:
//  1. The IPAMBlock is the unit of atomicity: an address is taken or freed only by a
//     conditional update of its block (resourceVersion), so no address is ever handed out twice.
//  2. A block and its affinity are named after the CIDR, so two nodes claiming the same block
//     collide on create and the API picks one winner; the loser moves on to another block.
//  3. The handle is written before the block, so the handle always names every block that may
//     hold its addresses: a retried allocation finds them (idempotency) and a crash leaves a
//     handle the garbage collector can reconcile, never an address nobody can find.
//
// Concurrency inside one process (the node daemon serving every pod of its node): changes to a
// block are group-committed. Each allocation or release writes its handle itself (in parallel
// with the others), then hands a pure change function to the block's committer; the committer
// reads the block once, applies every change queued meanwhile in order, and writes the result
// once with the resourceVersion it read. A 409 re-reads and re-applies the whole batch (and
// whatever joined it meanwhile). So N pods of a node cost one block write instead of N writes
// one after another, and the rules above hold unchanged: each change sees the block as left by
// the changes before it, and the write is still conditional.
import { createHash } from 'node:crypto';
import {
  addressOf,
  allocatedEntries,
  assignInBlock,
  blockInUse,
  newBlock,
  ordinalOf,
  ordinalsForHandle,
  releaseInBlock,
} from './block.js';
import { type Cidr, cidrContains, cidrSize, formatCidr, parseCidr } from './cidr.js';
import { AlreadyExistsError, ConflictError, NoFreeAddressError, PoolInUseError, ValidationError } from './errors.js';
import { affinityValue, cidrObjectName, handleObjectName } from './names.js';
import { assessPools, POOL_FINALIZER, type PoolAssessment } from './pools.js';
import { type RetryOptions, withRetries } from './retry.js';
import { selectorMatches } from './selector.js';
import type { IpamStore, Versioned } from './store.js';
import {
  AffinityState,
  type AllocatedAddress,
  type Allocation,
  type AllocationRequest,
  DEFAULT_IPAM_CONFIG,
  type HandleSummary,
  type IPAMBlockSpec,
  type IPAMConfigSpec,
  type IPAMHandleSpec,
  type IPPool,
  type Ipam,
} from './types.js';
import { validatePool } from './validate.js';

export const IPAM_CONFIG_NAME = 'default';

export interface AllocatorOptions {
  readonly retry?: RetryOptions;
  /** Labels of a node, for pool nodeSelectors. Default: no labels (only `all()` pools match). */
  readonly nodeLabels?: (node: string) => Promise<Readonly<Record<string, string>>>;
}

interface Context {
  readonly node: string;
  readonly pools: readonly IPPool[];
  readonly config: IPAMConfigSpec;
  readonly labels: Readonly<Record<string, string>>;
}

/** Serializes async work per key within this process (e.g. per handle, per node's block claim). */
class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** A change to one block: from the block as read (undefined when it does not exist) to the block
 * to write (the same object when nothing changes) and what the change tells its caller. Pure in
 * the block: it runs again, on a fresh read, after a conflict. */
type BlockChange<T> = (cur: IPAMBlockSpec | undefined) => {
  readonly next: IPAMBlockSpec | undefined;
  readonly value: T;
};

interface QueuedChange {
  readonly change: BlockChange<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** What an allocation took from one block. */
interface Taken {
  readonly block: IPAMBlockSpec;
  readonly mine: number[];
}

/** The handle object as last read or written by this allocation (saves a read per write). */
interface HandleCache {
  known: boolean;
  current: Versioned<IPAMHandleSpec> | undefined;
  /** Absent only by assumption (never read): a create that finds it is {@link HandleExists}. */
  assumedNew: boolean;
}

/** Internal: an allocation that assumed a new handle found it existing before taking anything. */
class HandleExists extends Error {
  override readonly name = 'HandleExists';
}

/** Outcome of one request of {@link BlockAllocator.allocateMany}. */
export type AllocationOutcome =
  | { readonly ok: true; readonly allocation: Allocation }
  | { readonly ok: false; readonly error: Error };

/** Counters for tests and metrics: how well block writes are coalesced. */
export interface BlockWriteStats {
  /** Conditional block updates sent (including ones refused with a conflict). */
  readonly writes: number;
  /** Changes (allocations and releases) those writes carried. */
  readonly changes: number;
  /** Largest number of changes in one write. */
  readonly largestBatch: number;
}

export class BlockAllocator implements Ipam {
  readonly store: IpamStore;
  readonly #retry: RetryOptions;
  readonly #nodeLabels: (node: string) => Promise<Readonly<Record<string, string>>>;
  readonly #handleLocks = new KeyedMutex();
  readonly #claimLocks = new KeyedMutex();
  /** Per block: changes waiting for the next group commit. Concurrent allocations and releases
   * of this process in one block share a write instead of racing each other to 409s (one write
   * per block in flight at a time); across processes the resourceVersion still arbitrates. */
  readonly #pending = new Map<string, QueuedChange[]>();
  /** Reads in flight that concurrent callers share (node context, affinity list). */
  readonly #reads = new Map<string, Promise<unknown>>();
  #stats = { writes: 0, changes: 0, largestBatch: 0 };

  constructor(store: IpamStore, opts: AllocatorOptions = {}) {
    this.store = store;
    this.#retry = opts.retry ?? {};
    this.#nodeLabels = opts.nodeLabels ?? (async () => ({}));
  }

  // ---------------------------------------------------------------- reading

  /** Valid pools, in name order; a pool that fails validation (or overlaps one that holds
   * blocks or is older) is ignored rather than used, so bad input can never change what is
   * allocated. A pool being deleted (deletionTimestamp) comes back disabled, with its
   * `deletionTimestamp`: it hands out nothing new from that moment on. */
  async pools(): Promise<IPPool[]> {
    const out: IPPool[] = [];
    for (const a of await this.poolStates()) {
      if (!a.pool) continue;
      const at = a.stored.metadata?.deletionTimestamp;
      out.push(
        at === undefined ? a.pool : { ...a.pool, spec: { ...a.pool.spec, disabled: true }, deletionTimestamp: at },
      );
    }
    return out;
  }

  /** Every stored pool with whether it is usable and, if not, the ValidationError saying why. */
  async poolStates(): Promise<PoolAssessment[]> {
    return assessPools(await this.store.pools.list(), () => this.store.blocks.list());
  }

  async config(): Promise<IPAMConfigSpec> {
    const c = await this.store.configs.get(IPAM_CONFIG_NAME);
    return { ...DEFAULT_IPAM_CONFIG, ...(c?.spec ?? {}) };
  }

  /** How block writes have been coalesced so far. */
  get blockWriteStats(): BlockWriteStats {
    return { ...this.#stats };
  }

  /**
   * One read shared by every caller that asks while it is in flight: N pods of a node arriving
   * together read pools, config and labels once. Never a cached value: a caller that arrives
   * after the read finished starts a new one.
   */
  #shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    const inFlight = this.#reads.get(key) as Promise<T> | undefined;
    if (inFlight) return inFlight;
    const p = read();
    this.#reads.set(key, p);
    const done = (): void => {
      if (this.#reads.get(key) === p) this.#reads.delete(key);
    };
    p.then(done, done);
    return p;
  }

  #context(node: string): Promise<Context> {
    return this.#shared(`context/${node}`, async () => {
      const [pools, config, labels] = await Promise.all([this.pools(), this.config(), this.#nodeLabels(node)]);
      return { node, pools, config, labels };
    });
  }

  #poolOf(pools: readonly IPPool[], cidr: Cidr): IPPool | undefined {
    return pools.find((p) => {
      const pc = parseCidr(p.spec.cidr);
      return cidrContains(pc, cidr.family, cidr.base);
    });
  }

  #toAddress(pools: readonly IPPool[], block: IPAMBlockSpec, ordinal: number): AllocatedAddress {
    const c = parseCidr(block.cidr);
    return {
      address: addressOf(block, ordinal),
      family: c.family,
      block: block.cidr,
      pool: this.#poolOf(pools, c)?.name ?? '',
    };
  }

  /** The addresses a handle holds now, found through the blocks its handle object `h` names. */
  async #addressesOf(
    handle: string,
    h: Versioned<IPAMHandleSpec> | undefined,
    pools: readonly IPPool[],
  ): Promise<AllocatedAddress[]> {
    if (!h) return [];
    const out: AllocatedAddress[] = [];
    for (const cidr of Object.keys(h.spec.block).sort()) {
      const b = await this.store.blocks.get(cidrObjectName(cidr));
      if (!b) continue;
      for (const o of ordinalsForHandle(b.spec, handle)) out.push(this.#toAddress(pools, b.spec, o));
    }
    return out;
  }

  // ---------------------------------------------------------------- allocation

  async allocate(req: AllocationRequest): Promise<Allocation> {
    if (req.handle === '') throw new ValidationError('handle', 'must not be empty');
    if (req.node === '') throw new ValidationError('node', 'must not be empty');
    for (const f of ['ipv4', 'ipv6'] as const) {
      if (!Number.isInteger(req[f]) || req[f] < 0) throw new ValidationError(f, 'must be a non-negative integer');
    }
    return this.#handleLocks.run(req.handle, async () => {
      try {
        return await this.#allocateLocked(req, true);
      } catch (e) {
        // No address to be had (say the pool is disabled or being deleted) while assuming a new
        // handle: a retry of an allocation that already holds its addresses still gets them.
        const retried =
          e instanceof NoFreeAddressError && (await this.store.handles.get(handleObjectName(req.handle))) !== undefined;
        if (!(e instanceof HandleExists) && !retried) throw e;
        return this.#allocateLocked(req, false);
      }
    });
  }

  /**
   * The allocation under the handle's lock. `assumeNew`: the handle is not read first but created
   * with the first block's count (one API request instead of two for a new pod, the common case);
   * if it exists after all, the create fails before anything was taken and {@link HandleExists}
   * sends the caller round again the careful way, reading the handle and what it holds.
   */
  async #allocateLocked(req: AllocationRequest, assumeNew: boolean): Promise<Allocation> {
    const [ctx, h] = await Promise.all([
      this.#context(req.node),
      assumeNew ? undefined : this.store.handles.get(handleObjectName(req.handle)),
    ]);
    // the handle as read (or assumed absent): the first write to it needs no read; a conflict re-reads
    const cache: HandleCache = { known: true, current: h, assumedNew: assumeNew };
    const existing = await this.#addressesOf(req.handle, h, ctx.pools);
    const newly: AllocatedAddress[] = [];
    try {
      for (const family of [4, 6] as const) {
        const want = family === 4 ? req.ipv4 : req.ipv6;
        const need = want - existing.filter((a) => a.family === family).length;
        if (need > 0) newly.push(...(await this.#allocateFamily(req, family, need, ctx, cache)));
      }
    } catch (e) {
      if (e instanceof HandleExists) throw e; // nothing taken, nothing written
      // All or nothing: a dual-stack request that gets IPv4 but no IPv6 gives the IPv4 back.
      await this.#releaseAddresses(req.handle, newly);
      // Leave no empty handle behind (the CNI's DEL may never come for a failed ADD).
      await this.#deleteHandleIfEmpty(req.handle);
      throw e;
    }
    return { handle: req.handle, addresses: [...existing, ...newly] };
  }

  /**
   * Several allocations at once (e.g. every pod a node is starting), one outcome per request in
   * request order; one failing does not fail the others. The same as calling {@link allocate}
   * for each concurrently: their block changes are group-committed either way.
   */
  async allocateMany(reqs: readonly AllocationRequest[]): Promise<AllocationOutcome[]> {
    const settled = await Promise.allSettled(reqs.map((r) => this.allocate(r)));
    return settled.map((s) =>
      s.status === 'fulfilled'
        ? { ok: true, allocation: s.value }
        : { ok: false, error: s.reason instanceof Error ? s.reason : new Error(String(s.reason)) },
    );
  }

  async #allocateFamily(
    req: AllocationRequest,
    family: 4 | 6,
    n: number,
    ctx: Context,
    cache: HandleCache,
  ): Promise<AllocatedAddress[]> {
    const familyPools = ctx.pools.filter((p) => parseCidr(p.spec.cidr).family === family);
    const usable = familyPools.filter(
      (p) =>
        p.spec.disabled !== true &&
        (p.spec.allowedUses ?? ['Workload']).includes('Workload') &&
        selectorMatches(p.spec.nodeSelector, ctx.labels),
    );
    const got: AllocatedAddress[] = [];
    try {
      if (usable.length > 0) {
        // 1. Blocks affine to this node.
        for (const cidr of await this.#affineBlocks(ctx.node, usable)) {
          if (got.length >= n) break;
          got.push(...(await this.#assignFromBlock(cidr, n - got.length, req, ctx, true, cache)));
        }
        // 2. Claim new blocks while allowed.
        while (got.length < n && ctx.config.autoAllocateBlocks) {
          const cidr = await this.#claimBlockFor(ctx, usable);
          if (cidr === undefined) break;
          got.push(...(await this.#assignFromBlock(cidr, n - got.length, req, ctx, true, cache)));
        }
        // 3. Borrow single addresses from other nodes' blocks.
        if (got.length < n && !ctx.config.strictAffinity) {
          const blocks = await this.store.blocks.list();
          for (const b of blocks.sort((x, y) => x.name.localeCompare(y.name))) {
            if (got.length >= n) break;
            if (b.spec.deleted || b.spec.unallocated.length === 0) continue;
            if (b.spec.affinity === affinityValue(ctx.node)) continue;
            const c = parseCidr(b.spec.cidr);
            if (c.family !== family || !usable.some((p) => cidrContains(parseCidr(p.spec.cidr), family, c.base))) {
              continue;
            }
            got.push(...(await this.#assignFromBlock(b.spec.cidr, n - got.length, req, ctx, false, cache)));
          }
        }
      }
      if (got.length < n) {
        throw new NoFreeAddressError(
          ctx.node,
          (usable.length > 0 ? usable : familyPools).map((p) => p.name),
          family,
        );
      }
      return got;
    } catch (e) {
      await this.#releaseAddresses(req.handle, got);
      throw e;
    }
  }

  /** CIDRs of usable blocks affine to `node`, completing any claim left half-done. */
  async #affineBlocks(node: string, usable: readonly IPPool[]): Promise<string[]> {
    const affs = (await this.#shared('affinities', () => this.store.affinities.list()))
      .filter((a) => a.spec.node === node && a.spec.state !== AffinityState.PendingDeletion)
      .filter((a) => this.#poolOf(usable, parseCidr(a.spec.cidr)) !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
    const out: string[] = [];
    for (const a of affs) {
      if (a.spec.state === AffinityState.Pending && !(await this.#completeClaim(node, a.spec.cidr))) continue;
      out.push(a.spec.cidr);
    }
    return out;
  }

  /**
   * Takes up to `n` addresses from one block for the request's handle. The handle is bumped first
   * (rule 3); the block change then joins the block's next group commit (conditional, re-read on
   * every conflict). If the block cannot supply all `n`, the handle's count is lowered to what was
   * really taken.
   */
  async #assignFromBlock(
    cidr: string,
    n: number,
    req: AllocationRequest,
    ctx: Context,
    affineOnly: boolean,
    cache: HandleCache,
  ): Promise<AllocatedAddress[]> {
    await this.#bumpHandle(req.handle, cidr, n, cache);
    let before: Set<number> | undefined;
    let result: Taken = { block: newBlock(parseCidr(cidr), null), mine: [] };
    try {
      result = await this.#commit<Taken>(cidr, (cur) => {
        if (!cur || cur.deleted)
          return { next: cur, value: { block: cur ?? newBlock(parseCidr(cidr), null), mine: [] } };
        if (affineOnly && cur.affinity !== affinityValue(ctx.node))
          return { next: cur, value: { block: cur, mine: [] } };
        const now = ordinalsForHandle(cur, req.handle);
        before ??= new Set(now);
        // Ordinals of this handle that were not there at the first read were taken by an earlier
        // attempt of ours whose response was lost: count them instead of taking more.
        const mine = now.filter((o) => !before?.has(o));
        if (mine.length >= n) return { next: cur, value: { block: cur, mine: mine.slice(0, n) } };
        const next = assignInBlock(cur, n - mine.length, req.handle, req.attributes);
        if (next.ordinals.length === 0) return { next: cur, value: { block: cur, mine } };
        return { next: next.block, value: { block: next.block, mine: [...mine, ...next.ordinals] } };
      });
    } finally {
      if (result.mine.length < n) await this.#bumpHandle(req.handle, cidr, result.mine.length - n, cache);
    }
    return result.mine.map((o) => this.#toAddress(ctx.pools, result.block, o));
  }

  /**
   * Queues `change` for the block's next group commit and resolves with its value once the write
   * carrying it succeeded. The first change finding the block idle starts the commit at once;
   * changes arriving while a write is in flight (or the block lock is held) form the next batch.
   */
  #commit<T>(cidr: string, change: BlockChange<T>): Promise<T> {
    const name = cidrObjectName(cidr);
    return new Promise<T>((resolve, reject) => {
      let queue = this.#pending.get(name);
      const idle = queue === undefined;
      if (queue === undefined) {
        queue = [];
        this.#pending.set(name, queue);
      }
      queue.push({ change, resolve: resolve as (v: unknown) => void, reject });
      if (idle) void this.#drain(name, cidr, queue);
    });
  }

  async #drain(name: string, cidr: string, queue: QueuedChange[]): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch: QueuedChange[] = [];
        try {
          const values = await withRetries(`update block ${cidr}`, this.#retry, async () => {
            // whatever queued up while we waited for the lock or the last attempt joins this one
            batch.push(...queue.splice(0));
            const cur = await this.store.blocks.get(name);
            let spec = cur?.spec;
            const out: unknown[] = [];
            for (const q of batch) {
              const r = q.change(spec);
              out.push(r.value);
              if (cur) spec = r.next;
            }
            if (cur && spec !== undefined && spec !== cur.spec) {
              this.#stats.writes++;
              this.#stats.changes += batch.length;
              this.#stats.largestBatch = Math.max(this.#stats.largestBatch, batch.length);
              await this.store.blocks.update(name, spec, cur.resourceVersion);
            }
            return out;
          });
          batch.forEach((q, i) => {
            q.resolve(values[i]);
          });
        } catch (e) {
          // the write failed for good (not a conflict, or retries exhausted): every change in it failed
          for (const q of batch) q.reject(e);
        }
      }
    } finally {
      this.#pending.delete(name);
    }
  }

  /**
   * Adds `delta` to the handle's count for `cidr`, creating the handle on first use. With `cache`
   * (the handle as this allocation last read or wrote it, under its handle lock) the first attempt
   * skips the read; a stale cache only costs a conflict and a re-read.
   */
  async #bumpHandle(handle: string, cidr: string, delta: number, cache?: HandleCache): Promise<void> {
    if (delta === 0) return;
    const name = handleObjectName(handle);
    await withRetries(`update handle ${handle}`, this.#retry, async (attempt) => {
      const useCache = cache?.known === true && attempt === 0 && (cache.current !== undefined || delta > 0);
      const cur = useCache ? cache.current : await this.store.handles.get(name);
      if (cache) cache.known = false;
      // assumed new and found after all (say after a failed create): what it holds is unknown here
      if (cur && cache?.assumedNew) throw new HandleExists(name);
      let written: Versioned<IPAMHandleSpec> | undefined;
      if (!cur) {
        if (delta < 0) return;
        try {
          written = await this.store.handles.create(name, { handleID: handle, block: { [cidr]: delta } });
        } catch (e) {
          if (e instanceof AlreadyExistsError)
            throw cache?.assumedNew ? new HandleExists(name) : new ConflictError('IPAMHandle', name);
          throw e;
        }
      } else {
        const block = { ...cur.spec.block };
        const count = (block[cidr] ?? 0) + delta;
        if (count > 0) block[cidr] = count;
        else delete block[cidr];
        written = await this.store.handles.update(name, { ...cur.spec, block }, cur.resourceVersion);
      }
      if (cache) {
        cache.known = true;
        cache.current = written;
        cache.assumedNew = false; // created by us: the assumption held
      }
    });
  }

  /** Deterministic start for the free-block search, so nodes spread out instead of all racing
   * for the lowest free block. */
  #startOffset(node: string, count: bigint): bigint {
    const h = BigInt(`0x${createHash('sha256').update(node).digest('hex').slice(0, 15)}`);
    return h % count;
  }

  async #claimBlockFor(ctx: Context, usable: readonly IPPool[]): Promise<string | undefined> {
    // One claim at a time per node in this process: concurrent pods on a node that fill a block
    // share the next block instead of each claiming its own.
    return this.#claimLocks.run(ctx.node, async () => {
      const [affs, blocks] = await Promise.all([this.store.affinities.list(), this.store.blocks.list()]);
      const mine = affs.filter((a) => a.spec.node === ctx.node);
      const byName = new Map(blocks.map((b) => [b.name, b]));
      for (const a of mine) {
        const b = byName.get(a.name);
        if (
          a.spec.state === AffinityState.Confirmed &&
          b &&
          !b.spec.deleted &&
          b.spec.affinity === affinityValue(ctx.node) &&
          b.spec.unallocated.length > 0 &&
          this.#poolOf(usable, parseCidr(b.spec.cidr))
        ) {
          return b.spec.cidr; // a block claimed while we waited for the lock
        }
      }
      if (ctx.config.maxBlocksPerHost > 0 && mine.length >= ctx.config.maxBlocksPerHost) return undefined;
      const taken = new Set<string>([...affs.map((a) => a.name), ...blocks.map((b) => b.name)]);
      for (const pool of usable) {
        const pc = parseCidr(pool.spec.cidr);
        const blockSize = pool.spec.blockSize ?? (pc.family === 4 ? 26 : 122);
        const count = cidrSize(pc) / (1n << BigInt((pc.family === 4 ? 32 : 128) - blockSize));
        const start = this.#startOffset(ctx.node, count);
        // Only taken.size + lost races candidates can be unavailable, so this ends quickly
        // even in an IPv6 pool with 2^58 blocks.
        let skipped = 0;
        for (let i = 0n; i < count && skipped <= taken.size + 64; i++) {
          const idx = (start + i) % count;
          const cidr = formatCidr({
            family: pc.family,
            base: pc.base + idx * (cidrSize(pc) / count),
            prefix: blockSize,
          });
          const name = cidrObjectName(cidr);
          if (taken.has(name)) {
            skipped++;
            continue;
          }
          if (await this.#tryClaim(ctx.node, cidr)) return cidr;
          skipped++;
        }
      }
      return undefined;
    });
  }

  /** Claims `cidr` for `node`: affinity (pending) then block, both by CIDR-derived name, then
   * confirms the affinity. Returns false when another node won the race. */
  async #tryClaim(node: string, cidr: string): Promise<boolean> {
    const name = cidrObjectName(cidr);
    const created = await withRetries(`claim block ${cidr}`, this.#retry, async () => {
      try {
        await this.store.affinities.create(name, { node, cidr, state: AffinityState.Pending });
        return true;
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        // Ours if an earlier attempt of ours was applied but its response was lost.
        const cur = await this.store.affinities.get(name);
        if (!cur) throw new ConflictError('BlockAffinity', name);
        return cur.spec.node === node;
      }
    });
    if (!created) return false;
    return this.#completeClaim(node, cidr);
  }

  /** Makes sure the block of a pending affinity of ours exists with our affinity, then confirms
   * the affinity. Gives the affinity up if the CIDR's block belongs to someone else. */
  async #completeClaim(node: string, cidr: string): Promise<boolean> {
    const name = cidrObjectName(cidr);
    const owned = await withRetries(`create block ${cidr}`, this.#retry, async () => {
      const existing = await this.store.blocks.get(name);
      if (existing) return existing.spec.affinity === affinityValue(node) && !existing.spec.deleted;
      try {
        await this.store.blocks.create(name, newBlock(parseCidr(cidr), affinityValue(node)));
        return true;
      } catch (e) {
        if (e instanceof AlreadyExistsError) throw new ConflictError('IPAMBlock', name);
        throw e;
      }
    });
    await withRetries(`confirm affinity ${cidr}`, this.#retry, async () => {
      const a = await this.store.affinities.get(name);
      if (!a || a.spec.node !== node) return;
      if (!owned) {
        await this.store.affinities.delete(name, a.resourceVersion);
      } else if (a.spec.state === AffinityState.Pending) {
        await this.store.affinities.update(name, { ...a.spec, state: AffinityState.Confirmed }, a.resourceVersion);
      }
    });
    return owned;
  }

  // ---------------------------------------------------------------- release

  async releaseByHandle(handle: string): Promise<number> {
    return this.#handleLocks.run(handle, async () => {
      const name = handleObjectName(handle);
      const h = await this.store.handles.get(name);
      if (!h) return 0;
      let released = 0;
      for (const cidr of Object.keys(h.spec.block)) {
        released += await this.#releaseInBlock(cidr, (b) => ordinalsForHandle(b, handle));
      }
      await withRetries(`delete handle ${handle}`, this.#retry, async () => {
        const cur = await this.store.handles.get(name);
        if (cur) await this.store.handles.delete(name, cur.resourceVersion);
      });
      return released;
    });
  }

  /** Frees the ordinals `pick` selects in one block (group-committed, re-read on conflict). */
  #releaseInBlock(cidr: string, pick: (b: IPAMBlockSpec) => number[]): Promise<number> {
    return this.#commit<number>(cidr, (cur) => {
      if (!cur) return { next: cur, value: 0 };
      const ordinals = pick(cur).filter((o) => cur.allocations[o] !== null && cur.allocations[o] !== undefined);
      if (ordinals.length === 0) return { next: cur, value: 0 };
      return { next: releaseInBlock(cur, ordinals), value: ordinals.length };
    });
  }

  async #releaseAddresses(handle: string, addrs: readonly AllocatedAddress[]): Promise<void> {
    const byBlock = new Map<string, string[]>();
    for (const a of addrs) byBlock.set(a.block, [...(byBlock.get(a.block) ?? []), a.address]);
    for (const [cidr, list] of byBlock) {
      const n = await this.#releaseInBlock(cidr, (b) =>
        list
          .map((a) => ordinalOf(b, a))
          .filter((o): o is number => o !== undefined && ordinalsForHandle(b, handle).includes(o)),
      );
      await this.#bumpHandle(handle, cidr, -n);
    }
  }

  /**
   * Releases one address. With `expectHandle`, only if the address still belongs to that handle
   * (the garbage collector's guard against freeing an address that was reused meanwhile).
   * Returns whether an address was freed.
   */
  async releaseAddress(address: string, expectHandle?: string): Promise<boolean> {
    const blocks = await this.store.blocks.list();
    const b = blocks.find((x) => ordinalOf(x.spec, address) !== undefined);
    if (!b) return false;
    let handle: string | null = null;
    const n = await this.#releaseInBlock(b.spec.cidr, (spec) => {
      const o = ordinalOf(spec, address);
      if (o === undefined) return [];
      const idx = spec.allocations[o];
      if (idx === null || idx === undefined) return [];
      handle = spec.attributes[idx]?.handle_id ?? null;
      if (expectHandle !== undefined && handle !== expectHandle) return [];
      return [o];
    });
    const h: string | null = handle;
    if (n > 0 && h !== null) {
      await this.#handleLocks.run(h, async () => {
        await this.#bumpHandle(h, b.spec.cidr, -n);
        await this.#deleteHandleIfEmpty(h);
      });
    }
    return n > 0;
  }

  async #deleteHandleIfEmpty(handle: string): Promise<void> {
    const name = handleObjectName(handle);
    await withRetries(`delete handle ${handle}`, this.#retry, async () => {
      const cur = await this.store.handles.get(name);
      if (cur && Object.keys(cur.spec.block).length === 0) await this.store.handles.delete(name, cur.resourceVersion);
    });
  }

  async handles(filter: { node?: string } = {}): Promise<readonly HandleSummary[]> {
    const [hs, blocks] = await Promise.all([this.store.handles.list(), this.store.blocks.list()]);
    const out = new Map<string, { addresses: string[]; attributes: Record<string, string> }>();
    for (const h of hs) out.set(h.spec.handleID, { addresses: [], attributes: {} });
    for (const b of blocks) {
      for (const { ordinal, attr } of allocatedEntries(b.spec)) {
        if (attr.handle_id === null) continue;
        const e = out.get(attr.handle_id) ?? { addresses: [], attributes: {} };
        e.addresses.push(addressOf(b.spec, ordinal));
        Object.assign(e.attributes, attr.secondary ?? {});
        out.set(attr.handle_id, e);
      }
    }
    return [...out.entries()]
      .filter(([, e]) => filter.node === undefined || e.attributes.node === filter.node)
      .map(([handle, e]) => ({ handle, addresses: e.addresses, attributes: e.attributes }))
      .sort((a, b) => a.handle.localeCompare(b.handle));
  }

  // ---------------------------------------------------------------- blocks

  /** Gives `node` a block in each family of the usable pools it has none in (so the node can
   * advertise before its first pod). Returns the CIDRs claimed. */
  async ensureNodeBlocks(node: string): Promise<string[]> {
    const ctx = await this.#context(node);
    if (!ctx.config.autoAllocateBlocks) return [];
    const claimed: string[] = [];
    for (const family of [4, 6] as const) {
      const usable = ctx.pools.filter(
        (p) =>
          parseCidr(p.spec.cidr).family === family &&
          p.spec.disabled !== true &&
          (p.spec.allowedUses ?? ['Workload']).includes('Workload') &&
          selectorMatches(p.spec.nodeSelector, ctx.labels),
      );
      if (usable.length === 0) continue;
      if ((await this.#affineBlocks(node, usable)).length > 0) continue;
      const cidr = await this.#claimBlockFor(ctx, usable);
      if (cidr !== undefined) claimed.push(cidr);
    }
    return claimed;
  }

  /**
   * Releases the block at `cidr` if it holds no addresses: affinity to pending-deletion, block
   * marked deleted (conditional, so an allocation landing meanwhile aborts this), then both
   * objects deleted. Returns whether it was released.
   */
  async releaseBlockIfEmpty(cidr: string): Promise<boolean> {
    const name = cidrObjectName(cidr);
    const aff = await this.store.affinities.get(name);
    if (aff && aff.spec.state !== AffinityState.PendingDeletion) {
      await withRetries(`mark affinity ${cidr}`, this.#retry, async () => {
        const a = await this.store.affinities.get(name);
        if (a && a.spec.state !== AffinityState.PendingDeletion) {
          await this.store.affinities.update(
            name,
            { ...a.spec, state: AffinityState.PendingDeletion },
            a.resourceVersion,
          );
        }
      });
    }
    const emptied = await withRetries(`delete block ${cidr}`, this.#retry, async () => {
      const b = await this.store.blocks.get(name);
      if (!b) return true;
      if (blockInUse(b.spec) > 0) return false;
      if (!b.spec.deleted) await this.store.blocks.update(name, { ...b.spec, deleted: true }, b.resourceVersion);
      return true;
    });
    await withRetries(`finish block release ${cidr}`, this.#retry, async () => {
      const a = await this.store.affinities.get(name);
      if (emptied) {
        await this.store.blocks.delete(name);
        if (a) await this.store.affinities.delete(name, a.resourceVersion);
      } else if (a && a.spec.state === AffinityState.PendingDeletion) {
        // Someone allocated meanwhile: the block stays, and so does its owner.
        await this.store.affinities.update(name, { ...a.spec, state: AffinityState.Confirmed }, a.resourceVersion);
      }
    });
    return emptied;
  }

  /** Drops `node`'s affinity to the block (the node is gone) while its addresses remain: the
   * block is kept, unowned, until the garbage collector has freed its last address. */
  async releaseAffinity(cidr: string): Promise<void> {
    const name = cidrObjectName(cidr);
    await withRetries(`release affinity ${cidr}`, this.#retry, async () => {
      const b = await this.store.blocks.get(name);
      if (b && b.spec.affinity !== null) {
        await this.store.blocks.update(name, { ...b.spec, affinity: null }, b.resourceVersion);
      }
    });
    await withRetries(`delete affinity ${cidr}`, this.#retry, async () => {
      const a = await this.store.affinities.get(name);
      if (a) await this.store.affinities.delete(name, a.resourceVersion);
    });
  }

  // ---------------------------------------------------------------- pools

  async createPool(pool: IPPool): Promise<IPPool> {
    const others = (await this.store.pools.list()).map((p) => ({ name: p.name, spec: p.spec }));
    const valid = validatePool(pool, others);
    try {
      await this.store.pools.create(valid.name, valid.spec);
    } catch (e) {
      if (e instanceof AlreadyExistsError) {
        throw new ValidationError('metadata.name', `pool ${valid.name} already exists; update it instead`);
      }
      throw e;
    }
    return valid;
  }

  /** Replaces a pool's spec. The CIDR and block size of a pool with blocks cannot change. */
  async updatePool(pool: IPPool): Promise<IPPool> {
    return withRetries(`update pool ${pool.name}`, this.#retry, async () => {
      const all = await this.store.pools.list();
      const cur = all.find((p) => p.name === pool.name);
      if (!cur) throw new ValidationError('metadata.name', `pool ${pool.name} does not exist; create it first`);
      const valid = validatePool(
        pool,
        all.map((p) => ({ name: p.name, spec: p.spec })),
      );
      const old = validatePool({ name: cur.name, spec: cur.spec });
      if (old.spec.cidr !== valid.spec.cidr || old.spec.blockSize !== valid.spec.blockSize) {
        const blocks = await this.#blocksIn(old);
        if (blocks.length > 0) {
          const field = old.spec.cidr !== valid.spec.cidr ? 'spec.cidr' : 'spec.blockSize';
          throw new ValidationError(field, `cannot change while pool ${pool.name} has ${blocks.length} block(s)`);
        }
      }
      await this.store.pools.update(valid.name, valid.spec, cur.resourceVersion);
      return valid;
    });
  }

  async setPoolDisabled(name: string, disabled: boolean): Promise<void> {
    await withRetries(`disable pool ${name}`, this.#retry, async () => {
      const cur = await this.store.pools.get(name);
      if (!cur) throw new ValidationError('metadata.name', `pool ${name} does not exist`);
      await this.store.pools.update(name, { ...cur.spec, disabled }, cur.resourceVersion);
    });
  }

  async #blocksIn(pool: IPPool): Promise<Versioned<IPAMBlockSpec>[]> {
    const pc = parseCidr(pool.spec.cidr);
    return (await this.store.blocks.list()).filter((b) => {
      const c = parseCidr(b.spec.cidr);
      return cidrContains(pc, c.family, c.base);
    });
  }

  /**
   * Removes a pool. Refused with PoolInUseError (and nothing changed) while any of its addresses
   * is allocated. Otherwise the pool is disabled first (no new claims), its empty blocks are
   * released one by one (each conditionally), and the pool object is deleted last.
   */
  async deletePool(name: string): Promise<void> {
    const cur = await this.store.pools.get(name);
    if (!cur) return;
    const pool = { name, spec: cur.spec };
    const inUse = (await this.#blocksIn(pool)).reduce((n, b) => n + blockInUse(b.spec), 0);
    if (inUse > 0) throw new PoolInUseError(name, inUse);
    const wasDisabled = cur.spec.disabled === true;
    await this.setPoolDisabled(name, true);
    for (const b of await this.#blocksIn(pool)) {
      if (!(await this.releaseBlockIfEmpty(b.spec.cidr))) {
        if (!wasDisabled) await this.setPoolDisabled(name, false);
        const now = (await this.#blocksIn(pool)).reduce((n, x) => n + blockInUse(x.spec), 0);
        throw new PoolInUseError(name, now);
      }
    }
    await withRetries(`delete pool ${name}`, this.#retry, async () => {
      const p = await this.store.pools.get(name);
      if (p && p.metadata?.deletionTimestamp === undefined) await this.store.pools.delete(name, p.resourceVersion);
    });
    // The controller's finalizer guards deletions made through the API; this one was checked
    // above (no address in use, every block released), so it lets the object go at once.
    await withRetries(`finalize pool ${name}`, this.#retry, async () => {
      const p = await this.store.pools.get(name);
      const fins = p?.metadata?.finalizers ?? [];
      if (p && p.metadata?.deletionTimestamp !== undefined && fins.includes(POOL_FINALIZER)) {
        await this.store.pools.setFinalizers?.(
          name,
          fins.filter((f) => f !== POOL_FINALIZER),
          p.resourceVersion,
        );
      }
    });
  }

  /** Writes the IPAMConfig singleton (conditional update). */
  async setConfig(patch: Partial<IPAMConfigSpec>): Promise<IPAMConfigSpec> {
    return withRetries('update IPAMConfig', this.#retry, async () => {
      const cur = await this.store.configs.get(IPAM_CONFIG_NAME);
      const spec = { ...DEFAULT_IPAM_CONFIG, ...(cur?.spec ?? {}), ...patch };
      if (!Number.isInteger(spec.maxBlocksPerHost) || spec.maxBlocksPerHost < 0) {
        throw new ValidationError('spec.maxBlocksPerHost', 'must be a non-negative integer (0 = unlimited)');
      }
      if (cur) await this.store.configs.update(IPAM_CONFIG_NAME, spec, cur.resourceVersion);
      else {
        try {
          await this.store.configs.create(IPAM_CONFIG_NAME, spec);
        } catch (e) {
          if (e instanceof AlreadyExistsError) throw new ConflictError('IPAMConfig', IPAM_CONFIG_NAME);
          throw e;
        }
      }
      return spec;
    });
  }
}
