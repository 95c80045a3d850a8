export { type FlagSpec, type Output, type Parsed, parseFlags, UsageError } from './args.js';
export {
  bgpPeers,
  bgpRoutes,
  formatPeers,
  formatRoutes,
  type NeighborStatus,
  type RoutePath,
  type RouteStatus,
  type RoutesQuery,
  StatusSocketError,
  statusRequest,
} from './bgp.js';
export { DEFAULT_SOCKET, type Io, main, USAGE } from './cli.js';
export { formatIpamShow, type IpamShowOptions, type IpamShowReport, ipamShow, type PoolProblem } from './ipam.js';
export { table } from './table.js';
