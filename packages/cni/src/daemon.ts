import { statSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { hostBatcher, podBatcher } from './dataplane.js';
import type { IpamRequest, IpamResponse, PodIpam } from './ipam-client.js';
import { type AddTimings, runPlugin } from './plugin.js';

export interface IpamServerOptions {
  readonly socketPath: string;
  readonly ipam: PodIpam;
  /**
   * Allocations and releases at once (default: no limit). `@tortie/ipam` group-commits the
   * block writes of concurrent allocations, so 20 pods of a node cost a few block writes at once
   * instead of 20 writes one after another; a limit of 1 restores the old one-at-a-time queue.
   */
  readonly allocationConcurrency?: number;
}

/** What the daemon has served since it started (`{"op":"stats"}` on the socket). */
export interface DaemonStats {
  /** Whole CNI invocations run here for the native front end, by CNI_COMMAND. */
  readonly cni: Record<string, number>;
  /** Front-end requests sent back to the Node plugin (caller in another network namespace). */
  readonly fallback: number;
  /** IPAM requests (allocate, release, handles) of the Node plugin. */
  readonly ipam: number;
  /**
   * Host-side `ip -batch` processes of the pods plumbed here (`batches`), the pods' line groups
   * they carried (`jobs`, two per ADD) and the most in one process (`largest`).
   */
  readonly hostBatches: { readonly batches: number; readonly jobs: number; readonly largest: number };
  /**
   * The same for the pod side: processes run (`tortie-podnet` when `helper`, else `sh` running
   * one `nsenter … ip -batch` per pod).
   */
  readonly podBatches: {
    readonly batches: number;
    readonly jobs: number;
    readonly largest: number;
    readonly helper: boolean;
  };
  /** Phase timings of the last (up to 1000) successful ADDs run here, oldest first. */
  readonly addTimings: readonly AddTimings[];
}

/** The request header of the native front end (`shim/tortie-shim.c`). */
const SHIM_HEADER = /^CNI1 (\d+) (\d+) (\d+) (\d+)$/;
const MAX_HEADER = 256;

/** The network namespace of this process, as `dev:inode` of /proc/self/ns/net. */
function ownNetns(): string {
  const s = statSync('/proc/self/ns/net', { bigint: true });
  return `${s.dev}:${s.ino}`;
}

/**
 * The node daemon: IPAM for the Node plugin (one JSON line each way) and, for the native front
 * end, whole CNI invocations (environment and stdin in, exit code and stdout out) run by the
 * same code as the Node plugin, in this warm process with one API client for every pod.
 */
export class IpamServer implements AsyncDisposable {
  readonly socketPath: string;
  readonly #server: Server;
  readonly #ipam: PodIpam;
  readonly #limit: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #netns = ownNetns();
  readonly #timings: AddTimings[] = [];
  readonly #stats = { cni: {} as Record<string, number>, fallback: 0, ipam: 0 };

  private constructor(opts: IpamServerOptions) {
    this.socketPath = opts.socketPath;
    this.#ipam = opts.ipam;
    this.#limit = Math.max(1, opts.allocationConcurrency ?? Number.POSITIVE_INFINITY);
    // half open: the front end shuts its sending side down once the request is out, and still reads the answer
    this.#server = createServer({ allowHalfOpen: true }, (s) => this.#serve(s));
  }

  get stats(): DaemonStats {
    return {
      cni: { ...this.#stats.cni },
      fallback: this.#stats.fallback,
      ipam: this.#stats.ipam,
      hostBatches: { ...hostBatcher.stats },
      podBatches: { ...podBatcher.stats, helper: podBatcher.usesHelper },
      addTimings: [...this.#timings],
    };
  }

  static async start(opts: IpamServerOptions): Promise<IpamServer> {
    const s = new IpamServer(opts);
    await mkdir(dirname(opts.socketPath), { recursive: true });
    // A socket file left by a previous daemon would make listen() fail with EADDRINUSE.
    await rm(opts.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(opts.socketPath, () => {
        s.#server.off('error', reject);
        resolve();
      });
    });
    await chmod(opts.socketPath, 0o600);
    return s;
  }

  #serve(sock: Socket): void {
    this.#sockets.add(sock);
    sock.on('close', () => this.#sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf: Buffer = Buffer.alloc(0);
    let shim: { netns: string; env: number; stdin: number; start: number } | undefined;
    let done = false;
    sock.on('data', (d: Buffer) => {
      if (done) return;
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const nl = shim === undefined ? buf.indexOf(10) : -1;
      if (shim === undefined) {
        if (nl < 0) {
          if (buf.length > MAX_HEADER && buf[0] !== 0x7b) this.#reply(sock, 'FALLBACK request header too long\n');
          return;
        }
        const first = buf.subarray(0, nl).toString('utf8');
        if (first.startsWith('{')) {
          done = true;
          void this.#handle(first).then((res) => sock.end(`${JSON.stringify(res)}\n`));
          return;
        }
        const m = SHIM_HEADER.exec(first);
        if (m === null) {
          done = true;
          this.#reply(sock, `FALLBACK unknown request ${JSON.stringify(first.slice(0, 40))}\n`);
          return;
        }
        shim = { netns: `${m[1]}:${m[2]}`, env: Number(m[3]), stdin: Number(m[4]), start: nl + 1 };
      }
      if (buf.length < shim.start + shim.env + shim.stdin) return;
      done = true;
      if (shim.netns !== this.#netns) {
        // host-side plumbing done here would land in the wrong namespace: the caller does it itself
        this.#stats.fallback++;
        this.#reply(
          sock,
          `FALLBACK the node daemon runs in another network namespace than the runtime (${this.#netns}, caller ${shim.netns})\n`,
        );
        return;
      }
      const env: Record<string, string> = {};
      for (const kv of buf
        .subarray(shim.start, shim.start + shim.env)
        .toString('utf8')
        .split('\0')) {
        const eq = kv.indexOf('=');
        if (eq > 0 && kv.startsWith('CNI_')) env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const stdin = buf.subarray(shim.start + shim.env, shim.start + shim.env + shim.stdin).toString('utf8');
      const cmd = env.CNI_COMMAND ?? '';
      this.#stats.cni[cmd] = (this.#stats.cni[cmd] ?? 0) + 1;
      const onAddTimings = (t: AddTimings): void => {
        if (this.#timings.push(t) > 1000) this.#timings.shift();
      };
      void runPlugin(env, stdin, { ipam: () => this.#localIpam, onAddTimings })
        .catch((e: unknown) => ({
          exitCode: 1,
          stdout: `${JSON.stringify({ cniVersion: '1.0.0', code: 5, msg: `tortie node daemon: unexpected failure: ${e instanceof Error ? e.message : String(e)}` })}\n`,
        }))
        .then((out) => this.#reply(sock, `${out.exitCode}\n${out.stdout}`));
    });
  }

  #reply(sock: Socket, text: string): void {
    if (!sock.destroyed) sock.end(text);
  }

  /** The daemon's IPAM with its allocation limit: what the in-process plugin and the socket use. */
  readonly #localIpam: PodIpam = {
    allocate: (r) => this.#limited(() => this.#ipam.allocate(r)),
    releaseByHandle: (h) => this.#limited(() => this.#ipam.releaseByHandle(h)),
    handles: (f) => this.#ipam.handles(f),
  };

  async #handle(line: string): Promise<IpamResponse> {
    try {
      const req = JSON.parse(line) as IpamRequest;
      if (req.op === 'allocate' || req.op === 'release' || req.op === 'handles') this.#stats.ipam++;
      switch (req.op) {
        case 'ping':
          return { ok: true, value: 'pong' };
        case 'stats':
          return { ok: true, value: this.stats };
        case 'allocate':
          return { ok: true, value: await this.#localIpam.allocate(req.req) };
        case 'release':
          return { ok: true, value: await this.#localIpam.releaseByHandle(req.handle) };
        case 'handles':
          return { ok: true, value: await this.#localIpam.handles(req.node === undefined ? {} : { node: req.node }) };
        default:
          return { ok: false, error: { name: 'BadRequest', message: `unknown op in ${line.slice(0, 100)}` } };
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const name = /NoFreeAddress/.test(err.constructor.name) ? 'NoFreeAddressError' : err.name;
      return { ok: false, error: { name, message: err.message } };
    }
  }

  async #limited<T>(f: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((r) => this.#queue.push(r));
    this.#running++;
    try {
      return await f();
    } finally {
      this.#running--;
      this.#queue.shift()?.();
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
    await rm(this.socketPath, { force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
