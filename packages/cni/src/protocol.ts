/**
 * The CNI protocol (spec 1.0 and 1.1): versions, error codes, the environment, the network
 * configuration and the result. Pure: no I/O here, so it can be unit-tested in isolation.
 */

/** CNI spec versions this plugin speaks, oldest first. */
export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

/** Well-known error codes from the CNI spec (section "Error"). 100+ are ours. */
export const CniErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  notAvailableLimitedConnectivity: 51,
  /** Tortie: the node's address blocks are exhausted. */
  noFreeAddress: 100,
  /** Tortie: the network plumbing (iproute2, sysctl) failed. */
  plumbingFailed: 101,
  /** Tortie: CHECK found the container's networking not as ADD left it. */
  checkFailed: 102,
} as const;
export type CniErrorCode = (typeof CniErrorCode)[keyof typeof CniErrorCode];

/** An error the plugin reports as a CNI error object on stdout, with a non-zero exit. */
export class CniError extends Error {
  override readonly name = 'CniError';
  readonly code: number;
  readonly details: string | undefined;
  constructor(code: number, msg: string, details?: string) {
    super(msg);
    this.code = code;
    this.details = details;
  }

  toJSON(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return {
      cniVersion,
      code: this.code,
      msg: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

/** What the runtime passes in environment variables. */
export interface CniEnv {
  readonly command: CniCommand;
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  readonly args: Readonly<Record<string, string>>;
  readonly path: readonly string[];
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Reads and validates the CNI_* variables the given command needs. */
export function parseEnv(env: Readonly<Record<string, string | undefined>>): CniEnv {
  const command = env.CNI_COMMAND;
  if (command === undefined || command === '')
    throw new CniError(
      CniErrorCode.invalidEnvironment,
      'CNI_COMMAND is not set: this program is a CNI plugin and is run by the container runtime (ADD, DEL, CHECK, VERSION, STATUS, GC)',
    );
  if (!(CNI_COMMANDS as readonly string[]).includes(command))
    throw new CniError(
      CniErrorCode.invalidEnvironment,
      `CNI_COMMAND=${command} is not a CNI command; expected one of ${CNI_COMMANDS.join(', ')}`,
    );
  const cmd = command as CniCommand;
  const perContainer = cmd === 'ADD' || cmd === 'DEL' || cmd === 'CHECK';
  const containerId = env.CNI_CONTAINERID ?? '';
  const netns = env.CNI_NETNS ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  if (perContainer) {
    if (containerId === '')
      throw new CniError(CniErrorCode.invalidEnvironment, `CNI_CONTAINERID is required for ${cmd} and is empty`);
    if (!CONTAINER_ID.test(containerId))
      throw new CniError(
        CniErrorCode.invalidEnvironment,
        `CNI_CONTAINERID ${JSON.stringify(containerId)} is not a valid container ID (alphanumeric first, then alphanumerics, '_', '.', '-')`,
      );
    if ((cmd === 'ADD' || cmd === 'CHECK') && netns === '')
      throw new CniError(
        CniErrorCode.invalidEnvironment,
        `CNI_NETNS is required for ${cmd}: give the path of the pod's network namespace (e.g. /run/netns/NAME or /proc/PID/ns/net)`,
      );
    if (ifname === '')
      throw new CniError(CniErrorCode.invalidEnvironment, `CNI_IFNAME is required for ${cmd} and is empty`);
    if (ifname.length > 15 || ifname === '.' || ifname === '..' || /[\s/:]/.test(ifname))
      throw new CniError(
        CniErrorCode.invalidEnvironment,
        `CNI_IFNAME ${JSON.stringify(ifname)} is not a valid Linux interface name (1-15 characters, no '/', ':' or spaces)`,
      );
  }
  return {
    command: cmd,
    containerId,
    netns,
    ifname,
    args: parseCniArgs(env.CNI_ARGS ?? ''),
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}

/** `K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IgnoreUnknown=1` */
export function parseCniArgs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new CniError(
        CniErrorCode.invalidEnvironment,
        `CNI_ARGS entry ${JSON.stringify(pair)} is not KEY=VALUE (entries are separated by ';')`,
      );
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Tortie's own network configuration, after validation. */
export interface NetConf {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly type: string;
  /** Pod interface MTU; when absent it is detected from the host's uplink minus `tunnelOverhead`. */
  readonly mtu: number | undefined;
  /** Bytes to subtract from the detected MTU (20 for IP-in-IP, 50 for VXLAN, 0 without tunnels). */
  readonly tunnelOverhead: number;
  /** This node's name in the Kubernetes API; defaults to the host name. */
  readonly nodename: string | undefined;
  readonly nodenameFile: string | undefined;
  readonly ipv4: boolean;
  readonly ipv6: boolean;
  /** The node agent's IPAM socket (fast path). */
  readonly socket: string | undefined;
  /** A kubeconfig for direct API access (used when there is no socket, or it does not answer). */
  readonly kubeconfig: string | undefined;
  readonly prevResult: CniResult | undefined;
  readonly runtimeConfig: Readonly<Record<string, unknown>>;
  /** GC only: attachments the runtime still knows. */
  readonly validAttachments: readonly { containerID: string; ifname: string }[] | undefined;
}

export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
  readonly sandbox?: string;
}
export interface CniIp {
  readonly address: string;
  readonly gateway?: string;
  readonly interface?: number;
  /** Only in 0.x results. */
  readonly version?: '4' | '6';
}
export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}
export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces?: readonly CniInterface[];
  readonly ips?: readonly CniIp[];
  readonly routes?: readonly CniRoute[];
  readonly dns?: Readonly<Record<string, unknown>>;
}

/** Version negotiation: the config's cniVersion must be one we speak. */
export function checkVersion(v: unknown): CniVersion {
  if (typeof v !== 'string' || v === '')
    throw new CniError(
      CniErrorCode.invalidConfig,
      `the network configuration has no cniVersion; set it to one of ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(v))
    throw new CniError(
      CniErrorCode.incompatibleVersion,
      `cniVersion ${JSON.stringify(v)} is not supported by the tortie plugin; it supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  return v as CniVersion;
}

/** Parses stdin. Throws CniError 6 on bad JSON, 1 on a version we do not speak, 7 on bad fields. */
export function parseNetConf(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(
      CniErrorCode.decodeFailure,
      `the network configuration on stdin is not valid JSON: ${(e as Error).message}`,
      stdin.slice(0, 200),
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new CniError(CniErrorCode.decodeFailure, 'the network configuration on stdin must be a JSON object');
  const c = raw as Record<string, unknown>;
  const cniVersion = checkVersion(c.cniVersion);
  const name = c.name;
  if (typeof name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))
    throw new CniError(
      CniErrorCode.invalidConfig,
      `network "name" ${JSON.stringify(name)} is missing or invalid (alphanumeric first, then alphanumerics, '_', '.', '-')`,
    );
  const mtu = optNumber(c, 'mtu', 68, 65535);
  const tunnelOverhead = optNumber(c, 'tunnel_overhead', 0, 1000) ?? 0;
  const ipam = optObject(c, 'ipam');
  const kube = optObject(c, 'kubernetes');
  const v4 = ipam?.assign_ipv4;
  const v6 = ipam?.assign_ipv6;
  const ipv4 = v4 === undefined ? true : v4 === true || v4 === 'true';
  const ipv6 = v6 === undefined ? false : v6 === true || v6 === 'true';
  if (!ipv4 && !ipv6)
    throw new CniError(
      CniErrorCode.invalidConfig,
      'ipam.assign_ipv4 and ipam.assign_ipv6 are both off: nothing to assign',
    );
  let validAttachments: { containerID: string; ifname: string }[] | undefined;
  const va = c['cni.dev/valid-attachments'] ?? c['cni.dev/attachments'];
  if (va !== undefined) {
    if (!Array.isArray(va))
      throw new CniError(
        CniErrorCode.invalidConfig,
        'cni.dev/valid-attachments must be an array of {containerID, ifname}',
      );
    validAttachments = va.map((a: unknown) => {
      const o = a as Record<string, unknown>;
      if (typeof o?.containerID !== 'string')
        throw new CniError(
          CniErrorCode.invalidConfig,
          'each cni.dev/valid-attachments entry needs a containerID string',
        );
      return { containerID: o.containerID, ifname: typeof o.ifname === 'string' ? o.ifname : '' };
    });
  }
  const prev = c.prevResult;
  if (prev !== undefined && (typeof prev !== 'object' || prev === null))
    throw new CniError(CniErrorCode.invalidConfig, 'prevResult must be a CNI result object');
  return {
    cniVersion,
    name,
    type: typeof c.type === 'string' ? c.type : 'tortie',
    mtu,
    tunnelOverhead,
    nodename: optString(c, 'nodename'),
    nodenameFile: optString(c, 'nodename_file'),
    ipv4,
    ipv6,
    socket: optString(c, 'agent_socket'),
    kubeconfig: kube === undefined ? undefined : optString(kube, 'kubeconfig', 'kubernetes.'),
    prevResult: prev as CniResult | undefined,
    runtimeConfig: (optObject(c, 'runtimeConfig') ?? {}) as Record<string, unknown>,
    validAttachments,
  };
}

function optNumber(c: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = c[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new CniError(
      CniErrorCode.invalidConfig,
      `"${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  return v;
}

function optString(c: Record<string, unknown>, key: string, prefix = ''): string | undefined {
  const v = c[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string')
    throw new CniError(CniErrorCode.invalidConfig, `"${prefix}${key}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function optObject(c: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = c[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CniError(CniErrorCode.invalidConfig, `"${key}" must be a JSON object`);
  return v as Record<string, unknown>;
}

/** Shapes a result for the requested version (0.4.0 results carry `version` on each IP). */
export function formatResult(version: CniVersion, r: Omit<CniResult, 'cniVersion'>): CniResult {
  const ips = r.ips?.map((ip) => {
    const { version: _v, ...rest } = ip;
    if (version === '0.4.0') return { ...rest, version: ip.address.includes(':') ? ('6' as const) : ('4' as const) };
    return rest;
  });
  const interfaces =
    version === '1.1.0'
      ? r.interfaces
      : r.interfaces?.map((i) => {
          const { mtu: _m, ...rest } = i;
          return rest;
        });
  return {
    cniVersion: version,
    ...(interfaces ? { interfaces } : {}),
    ...(ips ? { ips } : {}),
    ...(r.routes ? { routes: r.routes } : {}),
    dns: r.dns ?? {},
  };
}
