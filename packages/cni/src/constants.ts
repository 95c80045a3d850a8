/**
 * Names and numbers the plugin puts on the node. Other components (the agent, tortiectl) use these
 * to recognise what the CNI plugin made.
 */

/**
 * Routing protocol number on every host route to a local pod (`ip route ... proto 85`).
 * 85 (0x55) is unassigned in /etc/iproute2/rt_protos. It is deliberately not the number the
 * agent uses for BGP-learned routes, so the agent's sweep of its own routes can never remove a
 * pod's route, and `ip route show proto 85` lists exactly the pods on this node.
 */
export const POD_ROUTE_PROTOCOL = 85;

/** Every host-side veth is named this prefix plus 11 hex characters (13 in all, Linux allows 15). */
export const HOST_VETH_PREFIX = 'tt';
export const HOST_VETH_PATTERN = /^tt[0-9a-f]{11}$/;

/** The pods' IPv4 gateway: link-local, answered by proxy ARP on the host end (Calico style). */
export const GATEWAY_V4 = '169.254.1.1';
/** Every host-side veth gets this MAC, so the pod can pin its gateway's neighbour entry. */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
/** The host end's own IPv6 link-local address (EUI-64 of {@link HOST_VETH_MAC}): the pods' IPv6 gateway. */
export const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

/** Default socket of the node daemon (`tortie-cni daemon`). */
export const DEFAULT_SOCKET = '/var/run/tortie/cni.sock';

/** The direct-API IPAM bundle the plugin loads from its own directory when the socket is not used. */
export const DIRECT_MODULE = 'tortie-direct.cjs';

/**
 * The Node plugin, installed beside the native front end (`tortie`, shim/tortie-shim.c), which
 * execs it when the node daemon cannot be used.
 */
export const NODE_PLUGIN = 'tortie-node';

/** The pod-side helper (shim/tortie-podnet.c) next to the bundle: netlink in each pod's namespace, one process per burst. */
export const POD_HELPER = 'tortie-podnet';
