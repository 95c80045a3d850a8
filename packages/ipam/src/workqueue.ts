// A deduplicating work queue: a key queued many times while waiting is processed once; a key
// queued while being processed is processed again afterwards (never concurrently with itself).
export class WorkQueue {
  readonly #pending = new Set<string>();
  readonly #active = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #handler: (key: string) => Promise<void>;
  readonly #onError: (key: string, e: unknown) => void;
  readonly #concurrency: number;
  #running = 0;
  #stopped = false;
  #idle: (() => void)[] = [];

  constructor(handler: (key: string) => Promise<void>, onError: (key: string, e: unknown) => void, concurrency = 2) {
    this.#handler = handler;
    this.#onError = onError;
    this.#concurrency = concurrency;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#active.has(key)) this.#dirty.add(key);
    else this.#pending.add(key);
    this.#pump();
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.clear();
    this.#dirty.clear();
  }

  get size(): number {
    return this.#pending.size + this.#active.size;
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && !this.#stopped) {
      const key = [...this.#pending].find((k) => !this.#active.has(k));
      if (key === undefined) break;
      this.#pending.delete(key);
      this.#active.add(key);
      this.#running++;
      void this.#handler(key)
        .catch((e: unknown) => this.#onError(key, e))
        .finally(() => {
          this.#running--;
          this.#active.delete(key);
          if (this.#dirty.delete(key)) this.#pending.add(key);
          this.#pump();
          if (this.size === 0) for (const r of this.#idle.splice(0)) r();
        });
    }
  }
}
