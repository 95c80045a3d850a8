// BIRD 2, FRR bgpd and tortie-bgpd as processes inside a test Lab's namespaces: config
// generation, start/stop, queries. Every file lives under a temp dir of the test's own.
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagedProcess, Netns } from '@tortie/testkit';

export const BIRD = '/usr/sbin/bird';
export const BIRDC = '/usr/sbin/birdc';
export const FRR_BGPD = '/usr/lib/frr/bgpd';
export const FRR_ZEBRA = '/usr/lib/frr/zebra';
export const VTYSH = '/usr/bin/vtysh';

const here = dirname(fileURLToPath(import.meta.url));
export const TORTIE_BGPD_MAIN = resolve(here, '../../dist/daemon/main.js');

export async function tempDir(label: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `tortie-${label}-`));
  await chmod(d, 0o755);
  return d;
}

/** Thrown by a probe to stop waiting at once (the thing waited for can no longer happen). */
export class FatalWaitError extends Error {}

/** Polls `probe` until it returns a value other than undefined/false; throws with `what` on timeout. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (e instanceof FatalWaitError) throw e;
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface RouteSpec {
  readonly prefix: string;
  readonly communities?: readonly string[];
  readonly largeCommunities?: readonly string[];
  readonly med?: number;
}

// ---------------- BIRD 2 ----------------

export interface BirdNeighbor {
  readonly name: string;
  readonly address: string;
  readonly asn: number;
  readonly localAddress?: string;
  readonly passive?: boolean;
  readonly holdTime?: number;
  readonly ipv6?: boolean;
  /** IPv6 next hop for routes we send over an IPv4 session. */
  readonly ipv6NextHop?: string;
  readonly rrClient?: boolean;
  readonly gracefulRestart?: boolean;
  readonly nextHopSelf?: boolean;
}

export interface BirdConfig {
  readonly routerId: string;
  readonly asn: number;
  readonly neighbors: readonly BirdNeighbor[];
  readonly routes4?: readonly RouteSpec[];
  readonly routes6?: readonly RouteSpec[];
  readonly rrClusterId?: string;
  readonly gracefulRestartTime?: number;
  /** Do not listen: BIRD listens on 179 on every address by default. */
  readonly extra?: string;
}

function birdCommunities(r: RouteSpec): string {
  const parts: string[] = [];
  for (const c of r.communities ?? []) {
    const [a, b] = c.split(':');
    parts.push(`bgp_community.add((${a},${b}));`);
  }
  for (const c of r.largeCommunities ?? []) {
    const [a, b, d] = c.split(':');
    parts.push(`bgp_large_community.add((${a},${b},${d}));`);
  }
  if (r.med !== undefined) parts.push(`bgp_med = ${r.med};`);
  return parts.length === 0 ? '' : ` { ${parts.join(' ')} }`;
}

export function birdConfigText(c: BirdConfig): string {
  const lines: string[] = [
    `router id ${c.routerId};`,
    'log stderr all;',
    'protocol device { scan time 10; }',
    'protocol static static4 {',
    '  ipv4;',
    ...(c.routes4 ?? []).map((r) => `  route ${r.prefix} blackhole${birdCommunities(r)};`),
    '}',
    'protocol static static6 {',
    '  ipv6;',
    ...(c.routes6 ?? []).map((r) => `  route ${r.prefix} blackhole${birdCommunities(r)};`),
    '}',
  ];
  for (const n of c.neighbors) {
    const ibgp = n.asn === c.asn;
    lines.push(`protocol bgp ${n.name} {`);
    lines.push(`  local ${n.localAddress ?? ''} as ${c.asn};`);
    lines.push(`  neighbor ${n.address} as ${n.asn};`);
    if (n.passive) lines.push('  passive on;');
    lines.push(`  hold time ${n.holdTime ?? 90};`);
    lines.push('  connect retry time 1;');
    lines.push('  error wait time 1, 5;');
    if (n.gracefulRestart ?? true) {
      lines.push('  graceful restart on;');
      lines.push(`  graceful restart time ${c.gracefulRestartTime ?? 120};`);
    }
    if (n.rrClient) lines.push('  rr client;');
    if (c.rrClusterId) lines.push(`  rr cluster id ${c.rrClusterId};`);
    const nhSelf = n.nextHopSelf ? ' next hop self;' : '';
    lines.push(`  ipv4 { import all; export all;${nhSelf}${ibgp ? ' gateway recursive;' : ''} };`);
    if (n.ipv6 ?? true) {
      const nh = n.ipv6NextHop ? ` next hop address ${n.ipv6NextHop};` : '';
      lines.push(`  ipv6 { import all; export all;${nh}${nhSelf}${ibgp ? ' gateway recursive;' : ''} };`);
    }
    lines.push('}');
  }
  if (c.extra) lines.push(c.extra);
  return `${lines.join('\n')}\n`;
}

export interface BirdRoute {
  readonly prefix: string;
  readonly protocol: string;
  readonly best: boolean;
  readonly stale: boolean;
  /** `BGP.as_path` and friends, keyed without the `BGP.` prefix. */
  readonly attrs: Readonly<Record<string, string>>;
}

/** Parses `birdc show route all` output. */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const out: BirdRoute[] = [];
  let prefix = '';
  let cur: { prefix: string; protocol: string; best: boolean; stale: boolean; attrs: Record<string, string> } | null =
    null;
  for (const raw of text.split('\n')) {
    const line = raw;
    const head = /^(\S+\/\d+)?\s+(?:unicast|blackhole|unreachable|prohibit)\s+\[(\S+)[^\]]*\](\s+\*)?(.*)$/.exec(line);
    if (head) {
      if (head[1]) prefix = head[1];
      cur = { prefix, protocol: head[2]!, best: Boolean(head[3]), stale: /stale/i.test(head[4] ?? ''), attrs: {} };
      out.push(cur);
      continue;
    }
    const attr = /^\s+(?:BGP\.)?([a-z_0-9]+):\s?(.*)$/.exec(line);
    if (attr && cur) cur.attrs[attr[1]!] = attr[2]!;
  }
  return out;
}

export class Bird {
  readonly ns: Netns;
  readonly dir: string;
  readonly socket: string;
  readonly confPath: string;
  process: ManagedProcess;
  config: BirdConfig;

  private constructor(ns: Netns, dir: string, config: BirdConfig, process: ManagedProcess) {
    this.ns = ns;
    this.dir = dir;
    this.socket = join(dir, 'bird.ctl');
    this.confPath = join(dir, 'bird.conf');
    this.config = config;
    this.process = process;
  }

  static async start(ns: Netns, config: BirdConfig, opts: { dir?: string } = {}): Promise<Bird> {
    if (!existsSync(BIRD)) throw new Error(`${BIRD} not found: apt-get install bird2`);
    const dir = opts.dir ?? (await tempDir(`bird-${ns.label}`));
    await writeFile(join(dir, 'bird.conf'), birdConfigText(config));
    const p = ns.spawn(BIRD, ['-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl')]);
    const b = new Bird(ns, dir, config, p);
    await waitFor(`BIRD control socket in ${ns.label}`, async () => {
      if (p.exited) throw new FatalWaitError(`BIRD exited: ${p.output}\n${birdConfigText(config)}`);
      return (await b.tryCmd(['show', 'status'])) !== undefined;
    });
    return b;
  }

  async tryCmd(args: readonly string[]): Promise<string | undefined> {
    const r = await this.ns.tryExec(BIRDC, ['-s', this.socket, ...args], { timeoutMs: 30_000 });
    return r.exitCode === 0 && !/Unable to connect/.test(r.stdout) ? r.stdout : undefined;
  }

  async cmd(args: readonly string[]): Promise<string> {
    const r = await this.ns.exec(BIRDC, ['-s', this.socket, ...args], { timeoutMs: 60_000 });
    return r.stdout;
  }

  async reconfigure(config: BirdConfig): Promise<void> {
    this.config = config;
    await writeFile(this.confPath, birdConfigText(config));
    const out = await this.cmd(['configure']);
    if (!/Reconfigured|Reconfiguration in progress|Reconfiguration confirmed/.test(out))
      throw new Error(`birdc configure failed:\n${out}`);
  }

  async protocolState(name: string): Promise<string> {
    const out = await this.cmd(['show', 'protocols', name]);
    const line = out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    return line.trim().split(/\s+/).slice(-1)[0] ?? '';
  }

  async waitEstablished(name: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `BIRD protocol ${name} Established`,
      async () => (await this.protocolState(name)) === 'Established',
      timeoutMs,
    );
  }

  async routes(table: 'master4' | 'master6' = 'master4', extra: readonly string[] = []): Promise<BirdRoute[]> {
    return parseBirdRoutes(await this.cmd(['show', 'route', 'all', 'table', table, ...extra]));
  }

  async routeCount(table: 'master4' | 'master6' = 'master4', protocol?: string): Promise<number> {
    const out = await this.cmd(['show', 'route', 'count', 'table', table, ...(protocol ? ['protocol', protocol] : [])]);
    const m = /(\d+) of (\d+) routes/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  /** Kills BIRD hard (no NOTIFICATION: the TCP connection just drops) and starts it again with `-R`. */
  async crashAndRestart(config: BirdConfig): Promise<void> {
    this.process.signal('SIGKILL');
    await this.process.wait();
    this.config = config;
    await writeFile(this.confPath, birdConfigText(config));
    this.process = this.ns.spawn(BIRD, ['-f', '-R', '-c', this.confPath, '-s', this.socket]);
    await waitFor(
      'BIRD control socket after restart',
      async () => (await this.tryCmd(['show', 'status'])) !== undefined,
    );
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}

// ---------------- FRR bgpd ----------------

export interface FrrNeighbor {
  readonly address: string;
  readonly asn: number;
  readonly passive?: boolean;
  readonly rrClient?: boolean;
  readonly ipv6?: boolean;
  readonly ipv6NextHop?: string;
  readonly nextHopSelf?: boolean;
  readonly holdTime?: number;
}

export interface FrrConfig {
  readonly routerId: string;
  readonly asn: number;
  readonly neighbors: readonly FrrNeighbor[];
  readonly routes4?: readonly RouteSpec[];
  readonly routes6?: readonly RouteSpec[];
  readonly clusterId?: string;
}

export function frrConfigText(c: FrrConfig, hostname: string): string {
  const l: string[] = ['frr defaults traditional', `hostname ${hostname}`, 'log stdout debugging', '!'];
  const allRoutes = [...(c.routes4 ?? []), ...(c.routes6 ?? [])];
  allRoutes.forEach((r, i) => {
    l.push(`route-map NET${i} permit 10`);
    if (r.communities?.length) l.push(` set community ${r.communities.join(' ')}`);
    if (r.largeCommunities?.length) l.push(` set large-community ${r.largeCommunities.join(' ')}`);
    if (r.med !== undefined) l.push(` set metric ${r.med}`);
    l.push('!');
  });
  for (const n of c.neighbors) {
    if (n.ipv6NextHop) {
      l.push(
        `route-map NH6-${n.address.replace(/[.:]/g, '-')} permit 10`,
        ` set ipv6 next-hop global ${n.ipv6NextHop}`,
        '!',
      );
    }
  }
  l.push(`router bgp ${c.asn}`);
  l.push(` bgp router-id ${c.routerId}`);
  l.push(' no bgp ebgp-requires-policy');
  l.push(' no bgp default ipv4-unicast');
  l.push(' no bgp network import-check');
  l.push(' bgp graceful-restart');
  if (c.clusterId) l.push(` bgp cluster-id ${c.clusterId}`);
  for (const n of c.neighbors) {
    l.push(` neighbor ${n.address} remote-as ${n.asn}`);
    l.push(` neighbor ${n.address} timers connect 1`);
    if (n.holdTime !== undefined)
      l.push(` neighbor ${n.address} timers ${Math.max(1, Math.floor(n.holdTime / 3))} ${n.holdTime}`);
    if (n.passive) l.push(` neighbor ${n.address} passive`);
  }
  l.push(' address-family ipv4 unicast');
  for (const [i, r] of (c.routes4 ?? []).entries()) l.push(`  network ${r.prefix} route-map NET${i}`);
  for (const n of c.neighbors) {
    l.push(`  neighbor ${n.address} activate`);
    if (n.rrClient) l.push(`  neighbor ${n.address} route-reflector-client`);
    if (n.nextHopSelf) l.push(`  neighbor ${n.address} next-hop-self`);
  }
  l.push(' exit-address-family');
  l.push(' address-family ipv6 unicast');
  const off = c.routes4?.length ?? 0;
  for (const [i, r] of (c.routes6 ?? []).entries()) l.push(`  network ${r.prefix} route-map NET${off + i}`);
  for (const n of c.neighbors) {
    if (n.ipv6 === false) continue;
    l.push(`  neighbor ${n.address} activate`);
    if (n.rrClient) l.push(`  neighbor ${n.address} route-reflector-client`);
    if (n.ipv6NextHop) l.push(`  neighbor ${n.address} route-map NH6-${n.address.replace(/[.:]/g, '-')} out`);
  }
  l.push(' exit-address-family');
  l.push('!');
  return `${l.join('\n')}\n`;
}

export class Frr {
  readonly ns: Netns;
  readonly dir: string;
  readonly process: ManagedProcess;
  config: FrrConfig;

  private constructor(ns: Netns, dir: string, config: FrrConfig, process: ManagedProcess) {
    this.ns = ns;
    this.dir = dir;
    this.config = config;
    this.process = process;
  }

  /** Starts bgpd alone (`--no_zebra`) as user frr, with its vty socket and pid file under a temp dir. */
  static async start(ns: Netns, config: FrrConfig): Promise<Frr> {
    if (!existsSync(FRR_BGPD)) throw new Error(`${FRR_BGPD} not found: apt-get install frr`);
    const dir = await tempDir(`frr-${ns.label}`);
    await chown(dir, frrUid(), frrGid());
    const conf = join(dir, 'bgpd.conf');
    await writeFile(conf, frrConfigText(config, ns.label));
    await chown(conf, frrUid(), frrGid());
    const p = ns.spawn(FRR_BGPD, [
      '-u',
      'frr',
      '-g',
      'frr',
      '--no_zebra',
      '-i',
      join(dir, 'bgpd.pid'),
      '--vty_socket',
      dir,
      '-z',
      join(dir, 'zserv.api'),
      '-f',
      conf,
      '--log',
      'stdout',
    ]);
    const f = new Frr(ns, dir, config, p);
    await waitFor(`FRR bgpd vty in ${ns.label}`, async () => {
      const r = await ns.tryExec(VTYSH, ['--vty_socket', dir, '-d', 'bgpd', '-c', 'show bgp summary json']);
      return r.exitCode === 0;
    });
    return f;
  }

  async vtysh(cmds: readonly string[]): Promise<string> {
    const args = ['--vty_socket', this.dir, '-d', 'bgpd'];
    for (const c of cmds) args.push('-c', c);
    return (await this.ns.exec(VTYSH, args, { timeoutMs: 60_000 })).stdout;
  }

  async json<T = unknown>(cmd: string): Promise<T> {
    return JSON.parse(await this.vtysh([cmd])) as T;
  }

  async neighborState(address: string): Promise<string> {
    const j = await this.json<Record<string, { bgpState?: string }>>(`show bgp neighbors ${address} json`);
    return j[address]?.bgpState ?? '';
  }

  async waitEstablished(address: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `FRR neighbor ${address} Established`,
      async () => (await this.neighborState(address)) === 'Established',
      timeoutMs,
    );
  }

  /** `show bgp ipv4|ipv6 unicast json` routes: prefix -> paths. */
  async routes(afi: 'ipv4' | 'ipv6' = 'ipv4'): Promise<Record<string, FrrPath[]>> {
    const j = await this.json<{ routes?: Record<string, FrrPath[]> }>(`show bgp ${afi} unicast json`);
    return j.routes ?? {};
  }

  /** Detailed view of one prefix (communities, large communities, MED). */
  async route(afi: 'ipv4' | 'ipv6', prefix: string): Promise<FrrPrefixDetail | undefined> {
    const j = await this.json<FrrPrefixDetail>(`show bgp ${afi} unicast ${prefix} json`);
    return j.paths ? j : undefined;
  }

  /** Applies config lines in `configure terminal` mode. */
  async configure(lines: readonly string[]): Promise<void> {
    await this.vtysh(['configure terminal', ...lines]);
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}

export interface FrrPath {
  readonly valid?: boolean;
  readonly bestpath?: boolean;
  readonly path?: string;
  readonly peerId?: string;
  readonly nexthops?: readonly { readonly ip: string; readonly afi?: string; readonly scope?: string }[];
  readonly metric?: number;
  readonly locPrf?: number;
}

export interface FrrPrefixDetail {
  readonly prefix: string;
  readonly paths: readonly {
    readonly aspath?: { readonly string: string };
    readonly med?: number;
    readonly metric?: number;
    readonly locPrf?: number;
    readonly community?: { readonly string: string };
    readonly largeCommunity?: { readonly string: string };
    readonly nexthops?: readonly { readonly ip: string }[];
    readonly peer?: { readonly peerId: string };
    readonly bestpath?: { readonly overall: boolean };
    readonly stale?: boolean;
  }[];
}

let frrIds: { uid: number; gid: number } | undefined;
function frrUid(): number {
  return ids().uid;
}
function frrGid(): number {
  return ids().gid;
}
function ids(): { uid: number; gid: number } {
  if (frrIds) return frrIds;
  // Debian's frr package creates the user; read /etc/passwd rather than shelling out.
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('frr:'));
  if (!line) throw new Error('user frr not found: apt-get install frr');
  const f = line.split(':');
  frrIds = { uid: Number(f[2]), gid: Number(f[3]) };
  return frrIds;
}

// ---------------- tortie-bgpd ----------------

export class TortieBgpd {
  readonly ns: Netns;
  readonly dir: string;
  readonly configPath: string;
  readonly statusSocket: string;
  process: ManagedProcess;

  private constructor(ns: Netns, dir: string, process: ManagedProcess) {
    this.ns = ns;
    this.dir = dir;
    this.configPath = join(dir, 'bgpd.yaml');
    this.statusSocket = join(dir, 'bgpd.sock');
    this.process = process;
  }

  static #spawn(ns: Netns, dir: string, args: readonly string[], nodeArgs: readonly string[]): ManagedProcess {
    return ns.spawn(process.execPath, [...nodeArgs, TORTIE_BGPD_MAIN, '--config', join(dir, 'bgpd.yaml'), ...args]);
  }

  /** Starts `node dist/daemon/main.js --config FILE` in `ns`; `config` gets `statusSocket` added. */
  static async start(
    ns: Netns,
    config: Record<string, unknown>,
    opts: { args?: readonly string[]; nodeArgs?: readonly string[] } = {},
  ): Promise<TortieBgpd> {
    if (!existsSync(TORTIE_BGPD_MAIN))
      throw new Error(
        `${TORTIE_BGPD_MAIN} not found: run \`pnpm build\` first (the interop tests run the built daemon)`,
      );
    const dir = await tempDir(`bgpd-${ns.label}`);
    const cfg = { ...config, statusSocket: join(dir, 'bgpd.sock') };
    await writeFile(join(dir, 'bgpd.yaml'), JSON.stringify(cfg, null, 2));
    const p = TortieBgpd.#spawn(ns, dir, opts.args ?? [], opts.nodeArgs ?? []);
    const t = new TortieBgpd(ns, dir, p);
    await p.waitForOutput(/status socket listening/, 15_000);
    return t;
  }

  /** SIGKILL (no NOTIFICATION: peers see the TCP connection drop), then start again with `args` (e.g. -R). */
  async crashAndRestart(config: Record<string, unknown>, args: readonly string[] = []): Promise<void> {
    this.process.signal('SIGKILL');
    await this.process.wait();
    await this.rewrite(config);
    this.process = TortieBgpd.#spawn(this.ns, this.dir, args, []);
    await this.process.waitForOutput(/status socket listening/, 15_000);
  }

  async rewrite(config: Record<string, unknown>): Promise<void> {
    await writeFile(this.configPath, JSON.stringify({ ...config, statusSocket: this.statusSocket }, null, 2));
  }

  async status(args: readonly string[]): Promise<string> {
    const r = await this.ns.exec(process.execPath, [
      TORTIE_BGPD_MAIN,
      'status',
      '--socket',
      this.statusSocket,
      ...args,
    ]);
    return r.stdout;
  }

  async neighbors(): Promise<
    {
      address: string;
      state: string;
      establishedAt: string | null;
      restarting: boolean;
      lastError: string | null;
      prefixes: { received: number; accepted: number; advertised: number };
    }[]
  > {
    return JSON.parse(await this.status(['-o', 'json']));
  }

  async routes(): Promise<
    {
      prefix: string;
      family: string;
      paths: {
        from: string;
        nextHop: string;
        asPath: string;
        med: number | null;
        localPref: number | null;
        communities: string[];
        largeCommunities: string[];
        best: boolean;
        stale: boolean;
      }[];
    }[]
  > {
    return JSON.parse(await this.status(['--routes', '-o', 'json']));
  }

  async waitEstablished(address: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `tortie-bgpd neighbor ${address} Established`,
      async () => {
        const n = await this.neighbors();
        return n.find((x) => x.address === address)?.state === 'Established';
      },
      timeoutMs,
    );
  }
}

export async function cleanupDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
