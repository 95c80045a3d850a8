// `tortie-ipam-controller`: the IPAM controller as a process. Talks to the API (kubeconfig or the
// in-cluster service account), logs what it does, serves /healthz and /metrics on a loopback
// port, and stops cleanly on SIGTERM/SIGINT (exit 0). Bad arguments: a message naming the
// argument, exit 2. Not exported from the package: the bin shim imports it from dist/.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { IpamController } from './controller.js';
import { kubernetesIpamController } from './k8s-controller.js';
import { formatMetrics } from './metrics.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ControllerArgs {
  readonly kubeconfig?: string;
  readonly gcGraceMs: number;
  readonly gcIntervalMs: number;
  readonly resyncIntervalMs: number;
  readonly metricsPort: number;
}

const USAGE = `usage: tortie-ipam-controller [--kubeconfig PATH] [--gc-grace 15m] [--gc-interval 1m]
                              [--resync-interval 5m] [--metrics-port 9094]
  --kubeconfig PATH     API access (default: $KUBECONFIG, else the in-cluster service account)
  --gc-grace DUR        how long an address stays without its pod before it is released (15m)
  --gc-interval DUR     how often garbage collection runs (1m)
  --resync-interval DUR how often every node and pool is looked at again (5m)
  --metrics-port N      /healthz and /metrics on 127.0.0.1:N (9094; 0 picks a free port)
Durations: 500ms, 30s, 15m, 1h, 1h30m.`;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations: `15m`, `1h30m`, `500ms`. */
export function parseDuration(flag: string, v: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < v.length) {
    re.lastIndex = at;
    const m = re.exec(v);
    if (!m) break;
    total += Number(m[1]) * (UNITS[m[2] ?? ''] ?? 0);
    at = re.lastIndex;
  }
  if (v === '' || at !== v.length || total <= 0) {
    throw new UsageError(`${flag}: "${v}" is not a positive duration (e.g. 500ms, 30s, 15m, 1h)`);
  }
  return total;
}

export function parseArgs(argv: readonly string[]): ControllerArgs | 'help' {
  let kubeconfig: string | undefined;
  let gcGraceMs = 15 * 60_000;
  let gcIntervalMs = 60_000;
  let resyncIntervalMs = 5 * 60_000;
  let metricsPort = 9094;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') return 'help';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0 && arg.startsWith('--')) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag}: needs a value`);
      return v;
    };
    switch (flag) {
      case '--kubeconfig':
        kubeconfig = value();
        break;
      case '--gc-grace':
        gcGraceMs = parseDuration(flag, value());
        break;
      case '--gc-interval':
        gcIntervalMs = parseDuration(flag, value());
        break;
      case '--resync-interval':
        resyncIntervalMs = parseDuration(flag, value());
        break;
      case '--metrics-port': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--metrics-port: "${v}" is not a port (0-65535)`);
        metricsPort = n;
        break;
      }
      default:
        throw new UsageError(`${arg}: unknown argument (see --help)`);
    }
  }
  return {
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    gcGraceMs,
    gcIntervalMs,
    resyncIntervalMs,
    metricsPort,
  };
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined) {
    try {
      kc.loadFromFile(path);
    } catch (e) {
      throw new UsageError(`--kubeconfig: cannot load ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else if (process.env.KUBECONFIG) {
    kc.loadFromDefault();
  } else if (process.env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else {
    throw new UsageError(
      '--kubeconfig: not given, $KUBECONFIG is unset and this is not a pod (KUBERNETES_SERVICE_HOST unset)',
    );
  }
  return kc;
}

const log = (m: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${m}\n`);
};

function serve(port: number, ctl: IpamController, ready: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'starting\n');
    } else if (path === '/metrics') {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end(`${formatMetrics(ctl.metrics)}# TYPE tortie_ipam_up gauge\ntortie_ipam_up ${ready() ? 1 : 0}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) =>
      reject(new UsageError(`--metrics-port: cannot listen on 127.0.0.1:${port}: ${e.message}`)),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ControllerArgs | 'help';
  let kc: KubeConfig;
  try {
    args = parseArgs(argv);
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    kc = loadKubeConfig(args.kubeconfig);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`tortie-ipam-controller: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const ctl = kubernetesIpamController(kc, {
    gcGracePeriodMs: args.gcGraceMs,
    gcIntervalMs: args.gcIntervalMs,
    resyncIntervalMs: args.resyncIntervalMs,
    log,
  });
  let started = false;
  let stopping = false;
  let server: Server;
  try {
    server = await serve(args.metricsPort, ctl, () => started && !stopping);
  } catch (e) {
    process.stderr.write(`tortie-ipam-controller: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const { port } = server.address() as AddressInfo;
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log(
    `tortie-ipam-controller: API ${kc.getCurrentCluster()?.server ?? '?'}, gc grace ${args.gcGraceMs / 1000}s, gc every ${args.gcIntervalMs / 1000}s; /healthz and /metrics on http://127.0.0.1:${port}`,
  );
  const starting = (async () => {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        await ctl.start();
        started = true;
        log('started: watching nodes and pools');
        return;
      } catch (e) {
        await ctl.stop().catch(() => {});
        log(`start failed (attempt ${attempt + 1}), retrying: ${e instanceof Error ? e.message : String(e)}`);
        await sleep(Math.min(10_000, 500 * 2 ** attempt));
      }
    }
  })();
  const signal = await stopped;
  stopping = true;
  log(`${signal}: stopping`);
  await Promise.race([starting, sleep(2_000)]);
  await ctl.stop();
  await Promise.race([ctl.drained(), sleep(5_000)]);
  await new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  log('stopped');
  return 0;
}
