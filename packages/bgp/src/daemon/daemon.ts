// tortie-bgpd: a Speaker driven by a config file, with a status socket. SIGHUP reloads (only
// changed neighbors are reset), SIGTERM sends Cease / Administrative Shutdown to every peer.
import { readFile } from 'node:fs/promises';
import { Speaker } from '../speaker/speaker.js';
import type { PeerConfig } from '../speaker/types.js';
import { type DaemonConfig, parseConfig } from './config.js';
import {
  type NeighborStatus,
  type RouteStatus,
  STATUS_PROTOCOL_VERSION,
  type StatusServer,
  serveStatus,
} from './status.js';

export type LogLevel = DaemonConfig['logLevel'];
const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function neighborToPeer(n: DaemonConfig['neighbors'][number]): PeerConfig {
  return {
    address: n.address,
    asn: n.asn,
    port: n.port,
    ...(n.description === undefined ? {} : { description: n.description }),
    ...(n.localAddress === undefined ? {} : { localAddress: n.localAddress }),
    passive: n.passive,
    holdTime: n.holdTime,
    connectRetryTime: n.connectRetryTime,
    families: n.families,
    routeReflectorClient: n.routeReflectorClient,
    nextHopSelf: n.nextHopSelf,
    ...(n.ttl === undefined ? {} : { ttl: n.ttl }),
    gracefulRestart: n.gracefulRestart,
    ...(n.ipv6NextHop === undefined ? {} : { ipv6NextHop: n.ipv6NextHop }),
    ...(n.import === undefined ? {} : { import: n.import }),
    ...(n.export === undefined ? {} : { export: n.export }),
  };
}

export class Daemon {
  readonly configPath: string;
  config: DaemonConfig;
  readonly speaker: Speaker;
  #status: StatusServer | undefined;
  #level: number;

  private constructor(configPath: string, config: DaemonConfig, restarting: boolean) {
    this.configPath = configPath;
    this.config = config;
    this.#level = LEVELS[config.logLevel];
    this.speaker = new Speaker({
      asn: config.asn,
      routerId: config.routerId,
      ...(config.clusterId === undefined ? {} : { clusterId: config.clusterId }),
      listen: config.listen,
      ...(restarting ? { gracefulRestart: { restarting: true, forwardingPreserved: true } } : {}),
      log: (level, message) => this.log(level, message),
    });
  }

  static async load(configPath: string): Promise<DaemonConfig> {
    return parseConfig(await readFile(configPath, 'utf8'), configPath);
  }

  /** `restarting`: set the graceful restart R and F bits (RFC 4724 restarting speaker). */
  static async start(configPath: string, opts: { restarting?: boolean } = {}): Promise<Daemon> {
    const d = new Daemon(configPath, await Daemon.load(configPath), opts.restarting ?? false);
    await d.speaker.start();
    d.speaker.peerStates$.subscribe((s) =>
      d.log('info', `neighbor ${s.address}: ${s.from} -> ${s.to}${s.error ? ` (${s.error})` : ''}`),
    );
    d.speaker.setPeers(d.config.neighbors.map(neighborToPeer));
    d.speaker.setAdvertised(d.config.advertise);
    if (d.config.statusSocket !== undefined) {
      d.#status = await serveStatus(d.config.statusSocket, {
        summary: () => ({
          routerId: d.config.routerId,
          asn: d.config.asn,
          version: STATUS_PROTOCOL_VERSION,
          uptimeSeconds: (Date.now() - d.speaker.startedAt) / 1000,
          routes: d.speaker.rib.size,
        }),
        neighbors: () => d.neighbors(),
        routes: (f) => d.routes(f),
      });
      d.log('info', `status socket listening on ${d.config.statusSocket}`, true);
    }
    d.log(
      'info',
      `tortie-bgpd started: AS ${d.config.asn}, router id ${d.config.routerId}, ${
        d.config.listen === false
          ? 'not listening'
          : `listening on ${d.config.listen.address} port ${d.speaker.listenPort ?? d.config.listen.port}`
      }, ${d.config.neighbors.length} neighbors`,
      true,
    );
    return d;
  }

  neighbors(): NeighborStatus[] {
    return this.speaker.peers().map((p) => ({
      address: p.address,
      asn: p.asn,
      ...(p.description === undefined ? {} : { description: p.description }),
      state: p.state,
      uptimeSeconds: p.uptimeSeconds === null ? null : Math.floor(p.uptimeSeconds),
      establishedAt: p.establishedAt === null ? null : new Date(p.establishedAt).toISOString(),
      routerId: p.routerId,
      holdTime: p.holdTime,
      families: p.families,
      prefixes: p.prefixes,
      lastError: p.lastError,
      restarting: p.restarting,
    }));
  }

  routes(filter: { family?: string; prefix?: string; limit?: number }): RouteStatus[] {
    const family = filter.family === 'ipv4-unicast' || filter.family === 'ipv6-unicast' ? filter.family : undefined;
    if (filter.family !== undefined && family === undefined)
      throw new Error(`unknown family ${JSON.stringify(filter.family)}: use ipv4-unicast or ipv6-unicast`);
    return this.speaker
      .routes({
        ...(family ? { family } : {}),
        ...(filter.prefix === undefined ? {} : { prefix: filter.prefix }),
        ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      })
      .map((r) => ({
        prefix: r.prefix,
        family: r.family,
        paths: r.paths.map((p) => ({
          from: p.from,
          nextHop: p.nextHop ?? '',
          asPath: p.asPathText,
          origin: p.origin,
          med: p.med,
          localPref: p.localPref,
          communities: p.communities,
          largeCommunities: p.largeCommunities,
          best: p.best,
          stale: p.stale,
        })),
      }));
  }

  /** Re-reads the config; neighbors whose session parameters changed are reset, the rest keep running. */
  async reload(): Promise<void> {
    let next: DaemonConfig;
    try {
      next = await Daemon.load(this.configPath);
    } catch (e) {
      this.log('error', `reload failed, keeping the running configuration: ${(e as Error).message}`);
      return;
    }
    const fixed = (['routerId', 'asn', 'clusterId', 'statusSocket'] as const).filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(this.config[k]),
    );
    if (JSON.stringify(next.listen) !== JSON.stringify(this.config.listen)) fixed.push('listen' as never);
    if (fixed.length > 0)
      this.log('warn', `reload: ${fixed.join(', ')} changed; these take effect only after a restart`);
    const { clusterId: _c, statusSocket: _s, ...rest } = next;
    this.config = {
      ...rest,
      routerId: this.config.routerId,
      asn: this.config.asn,
      listen: this.config.listen,
      ...(this.config.clusterId === undefined ? {} : { clusterId: this.config.clusterId }),
      ...(this.config.statusSocket === undefined ? {} : { statusSocket: this.config.statusSocket }),
    };
    this.#level = LEVELS[next.logLevel];
    this.speaker.setPeers(next.neighbors.map(neighborToPeer));
    this.speaker.setAdvertised(next.advertise);
    this.log('info', `configuration reloaded from ${this.configPath}`);
  }

  async shutdown(): Promise<void> {
    this.log('info', 'shutting down: Cease / Administrative Shutdown to every neighbor');
    await this.speaker.stop('tortie-bgpd shutting down');
    await this.#status?.close();
  }

  log(level: LogLevel, message: string, always = false): void {
    if (!always && LEVELS[level] > this.#level) return;
    process.stderr.write(`${new Date().toISOString()} ${level}: ${message}\n`);
  }
}
