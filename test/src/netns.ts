import { randomBytes } from 'node:crypto';
import { type CommandResult, type RunOptions, run, tryRun } from './command.js';
import { ManagedProcess } from './process.js';

/** Every namespace the kit makes starts with this, so leftovers are easy to find and only ours are touched. */
export const NETNS_PREFIX = 'tt';

/** A network namespace owned by a {@link Lab}. */
export class Netns {
  readonly lab: Lab;
  /** The kernel name (`ip netns` name), unique across concurrent labs. */
  readonly name: string;
  /** The short name the test gave it. */
  readonly label: string;

  constructor(lab: Lab, name: string, label: string) {
    this.lab = lab;
    this.name = name;
    this.label = label;
  }

  /** Runs a command inside the namespace; throws unless it exits 0. */
  exec(file: string, args: readonly string[] = [], opts?: RunOptions): Promise<CommandResult> {
    return run('ip', ['netns', 'exec', this.name, file, ...args], opts);
  }

  /** Runs a command inside the namespace and returns its result whatever the exit code. */
  tryExec(file: string, args: readonly string[] = [], opts?: RunOptions): Promise<CommandResult> {
    return tryRun('ip', ['netns', 'exec', this.name, file, ...args], opts);
  }

  /** `ip -n NS ...` */
  ip(args: readonly string[]): Promise<CommandResult> {
    return run('ip', ['-n', this.name, ...args]);
  }

  /** Starts a long-running process inside the namespace; the lab stops it on dispose. */
  spawn(
    file: string,
    args: readonly string[] = [],
    opts: { env?: Readonly<Record<string, string>>; cwd?: string } = {},
  ): ManagedProcess {
    const p = ManagedProcess.start('ip', ['netns', 'exec', this.name, file, ...args], opts);
    this.lab.track(p);
    return p;
  }

  async sysctl(key: string, value: string): Promise<void> {
    await this.exec('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  async ping(address: string, count = 1, timeoutSec = 2): Promise<boolean> {
    const r = await this.tryExec('ping', ['-n', '-q', '-c', String(count), '-W', String(timeoutSec), address]);
    return r.exitCode === 0;
  }
}

export interface Segment {
  /** The namespace that holds the bridge; nothing else lives there. */
  readonly switch: Netns;
  readonly bridge: string;
  readonly name: string;
}

export interface Attachment {
  readonly ns: Netns;
  readonly segment: Segment;
  readonly ifname: string;
  /** CIDR form, e.g. 192.0.2.1/24. */
  readonly address?: string;
}

/**
 * A disposable set of network namespaces, links and processes. Everything it made is
 * removed on dispose, even when the test failed; nothing it did not make is touched.
 * The host's own namespace is never modified: veth pairs are created directly inside
 * the lab's namespaces.
 */
export class Lab implements AsyncDisposable {
  readonly #namespaces: Netns[] = [];
  readonly #processes: ManagedProcess[] = [];
  #portCounter = 0;
  #disposed = false;

  readonly id: string;

  private constructor(id: string) {
    this.id = id;
  }

  static async create(): Promise<Lab> {
    // pid keeps ids apart between vitest workers, random bytes between labs in one worker
    const id = `${NETNS_PREFIX}${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
    await run('ip', ['-V']).catch((e: unknown) => {
      throw new Error(`iproute2 is required for network-namespace tests (apt-get install iproute2): ${String(e)}`);
    });
    return new Lab(id);
  }

  /** Creates a namespace with loopback up. */
  async namespace(label: string): Promise<Netns> {
    this.#assertLive();
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(label))
      throw new Error(`namespace label ${JSON.stringify(label)}: use [a-z0-9-], at most 31 characters`);
    const ns = new Netns(this, `${this.id}-${label}`, label);
    await run('ip', ['netns', 'add', ns.name]);
    this.#namespaces.push(ns);
    await ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair from `a` (interface `aIf`) to `b` (interface `bIf`), both ends up, with optional addresses. */
  async veth(
    a: Netns,
    aIf: string,
    b: Netns,
    bIf: string,
    opts: { aAddress?: string; bAddress?: string; mtu?: number } = {},
  ): Promise<void> {
    checkIfName(aIf);
    checkIfName(bIf);
    await run('ip', ['link', 'add', aIf, 'netns', a.name, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
    for (const [ns, ifname, addr] of [
      [a, aIf, opts.aAddress],
      [b, bIf, opts.bAddress],
    ] as const) {
      if (opts.mtu !== undefined) await ns.ip(['link', 'set', ifname, 'mtu', String(opts.mtu)]);
      if (addr !== undefined) await ns.ip(['addr', 'add', addr, 'dev', ifname]);
      await ns.ip(['link', 'set', ifname, 'up']);
    }
  }

  /** An L2 segment: a Linux bridge inside a namespace of its own. */
  async segment(label: string): Promise<Segment> {
    const sw = await this.namespace(`sw-${label}`);
    await sw.ip(['link', 'add', 'br0', 'type', 'bridge']);
    await sw.ip(['link', 'set', 'br0', 'up']);
    return { switch: sw, bridge: 'br0', name: label };
  }

  /** Plugs `ns` into `segment` through a veth whose inside end is `ifname`. */
  async attach(ns: Netns, segment: Segment, ifname: string, address?: string): Promise<Attachment> {
    const port = `p${++this.#portCounter}`;
    await this.veth(ns, ifname, segment.switch, port, address === undefined ? {} : { aAddress: address });
    await segment.switch.ip(['link', 'set', port, 'master', segment.bridge]);
    return { ns, segment, ifname, ...(address === undefined ? {} : { address }) };
  }

  /** A router namespace with one interface on each given segment and IP forwarding on. */
  async router(label: string, legs: readonly { segment: Segment; ifname: string; address: string }[]): Promise<Netns> {
    const r = await this.namespace(label);
    await r.sysctl('net.ipv4.ip_forward', '1');
    await r.sysctl('net.ipv6.conf.all.forwarding', '1');
    for (const leg of legs) await this.attach(r, leg.segment, leg.ifname, leg.address);
    return r;
  }

  /** @internal Called by {@link Netns.spawn}. */
  track(p: ManagedProcess): void {
    this.#processes.push(p);
  }

  get namespaces(): readonly Netns[] {
    return this.#namespaces;
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const errors: unknown[] = [];
    await Promise.all(this.#processes.map((p) => p.stop().catch((e: unknown) => errors.push(e))));
    for (const ns of [...this.#namespaces].reverse()) {
      // Whatever still runs inside a namespace we made was started from it by our test
      // (a daemon that forked, say); it must not outlive the namespace.
      const pids = await tryRun('ip', ['netns', 'pids', ns.name]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const r = await tryRun('ip', ['netns', 'delete', ns.name]);
      if (r.exitCode !== 0 && !/No such file/.test(r.stderr)) errors.push(new Error(r.stderr));
    }
    if (errors.length > 0) throw new AggregateError(errors, `lab ${this.id}: cleanup failed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #assertLive(): void {
    if (this.#disposed) throw new Error(`lab ${this.id} is already disposed`);
  }
}

function checkIfName(name: string): void {
  if (name.length === 0 || name.length > 15 || /[\s/:]/.test(name)) {
    throw new Error(`interface name ${JSON.stringify(name)}: Linux allows 1-15 characters, no spaces, '/' or ':'`);
  }
}

/** Namespaces whose names start with `prefix` (for leak checks). */
export async function listNamespaces(prefix: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
