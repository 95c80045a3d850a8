export {
  DEFAULT_SOCKET,
  DIRECT_MODULE,
  GATEWAY_V4,
  GATEWAY_V6,
  HOST_VETH_MAC,
  HOST_VETH_PATTERN,
  HOST_VETH_PREFIX,
  NODE_PLUGIN,
  POD_ROUTE_PROTOCOL,
} from './constants.js';
export { type DaemonStats, IpamServer, type IpamServerOptions } from './daemon.js';
export { HostBatcher, ipLine, PodBatcher, type PodOp } from './dataplane.js';
export { conflist, type InstallOptions, type InstallResult, inClusterKubeconfig, install } from './install.js';
export {
  type AllocatedAddress,
  type Allocation,
  type AllocationRequest,
  type HandleInfo,
  type PodIpam,
  SocketIpam,
  SocketUnavailableError,
} from './ipam-client.js';
export { KeepAliveKubeConfig } from './kubeconfig.js';
export { hostVethName, ipamHandle, podMac } from './names.js';
export { type AddTimings, type PluginDeps, type PluginOutput, runPlugin } from './plugin.js';
export {
  type CniEnv,
  CniError,
  CniErrorCode,
  type CniResult,
  type CniVersion,
  type NetConf,
  parseCniArgs,
  parseEnv,
  parseNetConf,
  SUPPORTED_VERSIONS,
} from './protocol.js';
