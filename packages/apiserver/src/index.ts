/**
 * @tortie/apiserver: an embedded Kubernetes API server for the lab and the tests. Start one with
 * `startApiServer()`, point client-node or kubectl at its kubeconfig, and inject faults through
 * `faults`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { makeSelfSigned } from './selfsigned.js';
import type { TlsMaterial } from './server.js';
import { ApiServer } from './server.js';

export type { StatusCause, StatusObject } from './errors.js';
export { ApiError, StatusReason } from './errors.js';
export { DataFileError } from './store.js';

export interface FaultInjector {
  /** The next n create/update/patch/delete requests fail with that code (a proper Status). */
  failNextWrites(n: number, code: 409 | 500): void;
  /** Ends every open watch stream now. */
  dropWatches(): void;
  /** Forgets history, so older resourceVersions get 410 Gone on watch. */
  compact(): void;
  /** Delays every response by ms. */
  setDelay(ms: number): void;
}

export interface RunningApiServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly token: string;
  /** A kubeconfig file pointing at url with the token. */
  readonly kubeconfigPath: string;
  readonly faults: FaultInjector;
  /** Stops and starts again on the same port; with dataFile, state is reloaded from it. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartApiServerOptions {
  /** host:port, default 127.0.0.1:0 (a free port on loopback). */
  listen?: string;
  /** Persist every write here (atomically) and load it on start. */
  dataFile?: string;
  /** The bearer token clients must send; random when omitted. */
  token?: string;
  /** Where to write the kubeconfig; a temporary file when omitted. */
  kubeconfigPath?: string;
  /**
   * Serve HTTPS: `true` with a self-signed certificate made now (the kubeconfig trusts it), or
   * with these PEM files. kubectl needs HTTPS: it never sends a bearer token over plain HTTP.
   */
  tls?: boolean | { certFile: string; keyFile: string };
  /** Interval of BOOKMARK events on watches that allow them (default 5000 ms). */
  bookmarkIntervalMs?: number;
}

export class ListenAddressError extends Error {
  constructor(listen: string) {
    super(`invalid listen address "${listen}": expected HOST:PORT, e.g. 127.0.0.1:6443 or [::1]:0`);
    this.name = 'ListenAddressError';
  }
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new ListenAddressError(listen);
  return { host, port };
}

function writeKubeconfig(path: string, url: string, token: string, ca: string | undefined): void {
  const cluster: Record<string, string | boolean> = { server: url };
  if (ca) cluster['certificate-authority-data'] = Buffer.from(ca).toString('base64');
  // client-node refuses plain-HTTP clusters unless TLS verification is explicitly off.
  else cluster['insecure-skip-tls-verify'] = true;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tortie', cluster }],
    users: [{ name: 'tortie', user: { token } }],
    contexts: [{ name: 'tortie', context: { cluster: 'tortie', user: 'tortie', namespace: 'default' } }],
    'current-context': 'tortie',
    preferences: {},
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(doc), { mode: 0o600 });
}

export async function startApiServer(opts: StartApiServerOptions = {}): Promise<RunningApiServer> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:0');
  const token = opts.token ?? randomBytes(24).toString('hex');
  let tls: TlsMaterial | undefined;
  if (opts.tls === true) {
    const hosts = ['127.0.0.1', '::1', 'localhost'];
    if (host !== '0.0.0.0' && host !== '::') hosts.push(host);
    tls = makeSelfSigned(hosts);
  } else if (opts.tls) {
    tls = { certPem: readFileSync(opts.tls.certFile, 'utf8'), keyPem: readFileSync(opts.tls.keyFile, 'utf8') };
  }
  const server = new ApiServer({
    host,
    port,
    token,
    dataFile: opts.dataFile,
    tls,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000,
  });
  await server.start();
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `${opts.tls ? 'https' : 'http'}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${server.port}`;
  const kubeconfigPath =
    opts.kubeconfigPath ?? join(tmpdir(), `tortie-apiserver-${process.pid}-${server.port}.kubeconfig`);
  writeKubeconfig(kubeconfigPath, url, token, tls?.certPem);
  let current = server;
  const faults: FaultInjector = {
    failNextWrites: (n, code) => current.failNextWrites(n, code),
    dropWatches: () => current.dropWatches(),
    compact: () => current.compact(),
    setDelay: (ms) => current.setDelay(ms),
  };
  return {
    url,
    token,
    kubeconfigPath,
    faults,
    async restart() {
      await current.stop();
      if (opts.dataFile) {
        // A fresh process would reload the file; so does a fresh server object.
        const next = new ApiServer({ ...current.config });
        await next.start();
        current = next;
      } else {
        // Without a data file the state lives in memory and survives; history does not.
        current.compact();
        await current.start();
      }
    },
    async stop() {
      await current.stop();
    },
  };
}
