// @tortie/bgp: the public face. The Speaker (desired state in, rxjs streams out), the daemon's
// configuration and status-socket protocol (tortiectl reads it), and the plain data types they use.

export {
  ConfigError,
  type ConfigIssue,
  type DaemonConfig,
  type NeighborConfig,
  parseConfig,
  validateConfig,
} from './daemon/config.js';
export {
  formatNeighbors,
  formatRoutes,
  type NeighborStatus,
  type PathStatus,
  type PrefixCounts as StatusPrefixCounts,
  queryStatus,
  type RouteStatus,
  type SpeakerSummary,
  STATUS_PROTOCOL_VERSION,
  type StatusProvider,
  type StatusRequest,
  type StatusResponse,
  StatusServer,
  StatusSocketError,
  serveStatus,
} from './daemon/status.js';
export type { PolicyConfig } from './policy/index.js';
export { PolicyConfigError } from './policy/index.js';
export { defaultFamilies, Speaker, SpeakerError, type SpeakerOptions } from './speaker/speaker.js';
export type {
  AdvertisedRoute,
  BestRouteChange,
  PeerConfig,
  PeerSnapshot,
  PeerStateChange,
  PeerStateName,
  PrefixCounts,
  RouteInfo,
  RouteSnapshot,
} from './speaker/types.js';
export type { Clock, Connector } from './transport/index.js';
export { ManualClock, systemClock } from './transport/index.js';
export type { Family, LargeCommunity, PathAttributes, Prefix } from './wire/index.js';
