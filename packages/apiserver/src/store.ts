/**
 * Storage: what etcd is to kube-apiserver. Holds objects per resource, hands out one global,
 * strictly increasing resourceVersion per write, keeps a bounded history of events so watches can
 * resume from a resourceVersion (older ones are "compacted" and get 410), and persists everything to
 * a JSON file written atomically (temp file + rename) before the write is acknowledged.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeObject } from './types.js';
import { clone } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  /** Storage key (`group/resource`). */
  key: string;
  rv: number;
  object: KubeObject;
  /** The object before this change (MODIFIED, DELETED), so watches with selectors can tell moves in and out. */
  old: KubeObject | undefined;
}

export interface Watcher {
  key: string;
  deliver(ev: StoreEvent): void;
}

export class DataFileError extends Error {
  constructor(file: string, why: string) {
    super(`cannot load API data file ${file}: ${why}; move it away or fix it to start with an empty store`);
    this.name = 'DataFileError';
  }
}

interface DataFile {
  format: 'tortie-apiserver/v1';
  resourceVersion: number;
  objects: Record<string, KubeObject[]>;
}

function objectKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

export class Store {
  private rv = 0;
  /** Every event with rv > compactedRv is in `history`; watching from older versions is 410 Gone. */
  private compactedRv = 0;
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly dataFile: string | undefined;
  private readonly maxHistory: number;

  constructor(dataFile: string | undefined, maxHistory = 10_000) {
    this.dataFile = dataFile;
    this.maxHistory = maxHistory;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableVersion(): number {
    return this.compactedRv;
  }

  get(key: string, namespace: string, name: string): KubeObject | undefined {
    const o = this.data.get(key)?.get(`${namespace}/${name}`);
    return o ? clone(o) : undefined;
  }

  /** Objects of one resource (optionally one namespace), ordered by namespace/name as etcd keys are. */
  list(key: string, namespace?: string): KubeObject[] {
    const m = this.data.get(key);
    if (!m) return [];
    const out: KubeObject[] = [];
    for (const [k, o] of [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (namespace === undefined || k.startsWith(`${namespace}/`)) out.push(clone(o));
    }
    return out;
  }

  keys(): string[] {
    return [...this.data.keys()];
  }

  /** Stores a created or updated object, giving it the next resourceVersion. Returns the stored copy. */
  put(key: string, obj: KubeObject): KubeObject {
    let m = this.data.get(key);
    if (!m) {
      m = new Map();
      this.data.set(key, m);
    }
    const k = objectKey(obj);
    const old = m.get(k);
    const stored = clone(obj);
    this.rv++;
    stored.metadata.resourceVersion = String(this.rv);
    m.set(k, stored);
    this.commit({ type: old ? 'MODIFIED' : 'ADDED', key, rv: this.rv, object: clone(stored), old });
    return clone(stored);
  }

  /** Removes an object; the DELETED event carries it with a new resourceVersion, as kube-apiserver does. */
  remove(key: string, obj: KubeObject): KubeObject {
    const m = this.data.get(key);
    const k = objectKey(obj);
    const old = m?.get(k);
    if (!m || !old) return clone(obj);
    m.delete(k);
    this.rv++;
    const gone = clone(old);
    gone.metadata.resourceVersion = String(this.rv);
    this.commit({ type: 'DELETED', key, rv: this.rv, object: clone(gone), old });
    return gone;
  }

  private commit(ev: StoreEvent): void {
    this.history.push(ev);
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.splice(0, this.history.length - this.maxHistory);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    this.persist();
    for (const w of [...this.watchers]) if (w.key === ev.key) w.deliver(ev);
  }

  /** Events for `key` after `rv`, or undefined when some of them have been compacted away. */
  eventsSince(key: string, rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    return this.history.filter((e) => e.key === key && e.rv > rv);
  }

  /** Forgets history: watches from any version before now get 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  subscribe(w: Watcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** Atomic write: readers (and a crash) see either the old file or the new one, never half of one. */
  persist(): void {
    if (!this.dataFile) return;
    const file: DataFile = { format: 'tortie-apiserver/v1', resourceVersion: this.rv, objects: {} };
    for (const [key, m] of this.data) if (m.size > 0) file.objects[key] = [...m.values()];
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const tmp = `${this.dataFile}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(file));
    renameSync(tmp, this.dataFile);
  }

  /** Loads the data file if it exists. History starts empty, so older watches relist (410). */
  load(): void {
    if (!this.dataFile) return;
    let text: string;
    try {
      text = readFileSync(this.dataFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new DataFileError(this.dataFile, (e as Error).message);
    }
    let parsed: DataFile;
    try {
      parsed = JSON.parse(text) as DataFile;
    } catch (e) {
      throw new DataFileError(this.dataFile, `not JSON (${(e as Error).message})`);
    }
    if (parsed.format !== 'tortie-apiserver/v1' || typeof parsed.resourceVersion !== 'number') {
      throw new DataFileError(this.dataFile, 'not a tortie-apiserver/v1 data file');
    }
    this.data.clear();
    for (const [key, objs] of Object.entries(parsed.objects)) {
      const m = new Map<string, KubeObject>();
      for (const o of objs) m.set(objectKey(o), o);
      this.data.set(key, m);
    }
    this.rv = parsed.resourceVersion;
    this.compact();
  }
}
