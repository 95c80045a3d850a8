import { createConnection } from 'node:net';
import type { Allocation, AllocationRequest, HandleSummary as HandleInfo, Ipam as PodIpam } from '@tortie/ipam';
import { CniError, CniErrorCode } from './protocol.js';

// The IPAM contract is @tortie/ipam's own. Type-only imports vanish from the bundle, so the
// plugin's start path still loads nothing of that package.
export type {
  AllocatedAddress,
  Allocation,
  AllocationRequest,
  HandleSummary as HandleInfo,
  Ipam as PodIpam,
} from '@tortie/ipam';

/** Requests and answers on the node-local socket: one JSON line each way per connection. */
export type IpamRequest =
  | { readonly op: 'allocate'; readonly req: AllocationRequest }
  | { readonly op: 'release'; readonly handle: string }
  | { readonly op: 'handles'; readonly node?: string }
  | { readonly op: 'ping' }
  | { readonly op: 'stats' };
export type IpamResponse =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

/** Whether an error from IPAM means the node's blocks are exhausted. */
export function isNoFreeAddress(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return /NoFreeAddress/.test(e.name) || /NoFreeAddress/.test(e.constructor.name);
}

/** Turns an IPAM failure into the CNI error the runtime should see. */
export function ipamError(e: unknown, what: string): CniError {
  if (e instanceof CniError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (isNoFreeAddress(e))
    return new CniError(
      CniErrorCode.noFreeAddress,
      `no free address for this pod: ${msg} (add an IPPool or enlarge one, or delete pods on this node)`,
    );
  return new CniError(CniErrorCode.tryAgainLater, `${what} failed: ${msg}`);
}

class RemoteError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The plugin side of the node-local socket. */
export class SocketIpam implements PodIpam {
  readonly path: string;
  readonly timeoutMs: number;
  constructor(path: string, timeoutMs = 30_000) {
    this.path = path;
    this.timeoutMs = timeoutMs;
  }

  async allocate(req: AllocationRequest): Promise<Allocation> {
    return (await this.call({ op: 'allocate', req })) as Allocation;
  }
  async releaseByHandle(handle: string): Promise<number> {
    return (await this.call({ op: 'release', handle })) as number;
  }
  async handles(filter?: { node?: string }): Promise<readonly HandleInfo[]> {
    return (await this.call(
      filter?.node === undefined ? { op: 'handles' } : { op: 'handles', node: filter.node },
    )) as HandleInfo[];
  }
  async ping(): Promise<void> {
    await this.call({ op: 'ping' });
  }

  call(request: IpamRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(this.path);
      let buf = '';
      let done = false;
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        f();
      };
      const timer = setTimeout(
        () => finish(() => reject(new SocketUnavailableError(this.path, `no answer within ${this.timeoutMs} ms`))),
        this.timeoutMs,
      );
      sock.setEncoding('utf8');
      sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
      sock.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        let res: IpamResponse;
        try {
          res = JSON.parse(buf.slice(0, nl)) as IpamResponse;
        } catch (e) {
          finish(() => reject(new SocketUnavailableError(this.path, `garbled answer: ${(e as Error).message}`)));
          return;
        }
        finish(() => (res.ok ? resolve(res.value) : reject(new RemoteError(res.error.name, res.error.message))));
      });
      sock.on('error', (e: NodeJS.ErrnoException) =>
        finish(() => reject(new SocketUnavailableError(this.path, e.code ?? e.message))),
      );
      sock.on('close', () =>
        finish(() => reject(new SocketUnavailableError(this.path, 'connection closed without an answer'))),
      );
    });
  }
}

/** The node daemon's socket could not be used (not running, not answering). */
export class SocketUnavailableError extends Error {
  override readonly name = 'SocketUnavailableError';
  readonly path: string;
  constructor(path: string, why: string) {
    super(
      `the Tortie node daemon does not answer on ${path} (${why}); is the tortie DaemonSet pod running on this node?`,
    );
    this.path = path;
  }
}
