// Typed errors: each names what is wrong and what to do about it.

/** No pool/block could supply an address for the node. */
export class NoFreeAddressError extends Error {
  override readonly name = 'NoFreeAddressError';
  readonly node: string;
  readonly pools: readonly string[];
  readonly family: 4 | 6;
  constructor(node: string, pools: readonly string[], family: 4 | 6) {
    const list = pools.length === 0 ? '(none enabled for this node and family)' : pools.join(', ');
    super(
      `no free address for node ${node} in pools ${list} (IPv${family}); add a pool, free addresses, or allow borrowing (strictAffinity=false)`,
    );
    this.node = node;
    this.pools = pools;
    this.family = family;
  }
}

/** Invalid user input; `field` is the path of the offending field, e.g. `spec.blockSize`. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** Refusal to remove a pool (or a block) that still holds live addresses. */
export class PoolInUseError extends Error {
  override readonly name = 'PoolInUseError';
  readonly pool: string;
  readonly inUse: number;
  constructor(pool: string, inUse: number) {
    super(
      `pool ${pool} still holds ${inUse} allocated address(es); disable it (spec.disabled=true), drain its pods, then remove it`,
    );
    this.pool = pool;
    this.inUse = inUse;
  }
}

/** The object changed since it was read (HTTP 409 Conflict on update). Re-read and retry. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  readonly kind: string;
  readonly objectName: string;
  constructor(kind: string, objectName: string) {
    super(`${kind} ${objectName} was modified concurrently (resourceVersion conflict); re-read and retry`);
    this.kind = kind;
    this.objectName = objectName;
  }
}

/** Create of an object whose name is taken: the API's arbitration of a race. */
export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
  readonly kind: string;
  readonly objectName: string;
  constructor(kind: string, objectName: string) {
    super(`${kind} ${objectName} already exists`);
    this.kind = kind;
    this.objectName = objectName;
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly kind: string;
  readonly objectName: string;
  constructor(kind: string, objectName: string) {
    super(`${kind} ${objectName} not found`);
    this.kind = kind;
    this.objectName = objectName;
  }
}

/** A server-side or transport failure (5xx, reset connection) that may succeed on retry. */
export class TransientApiError extends Error {
  override readonly name = 'TransientApiError';
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** Bounded retries ran out; `cause` is the last error seen. */
export class RetriesExhaustedError extends Error {
  override readonly name = 'RetriesExhaustedError';
  readonly attempts: number;
  constructor(what: string, attempts: number, cause: unknown) {
    super(
      `${what} failed after ${attempts} attempts: ${cause instanceof Error ? cause.message : String(cause)}; check the API server and retry`,
      { cause },
    );
    this.attempts = attempts;
  }
}
