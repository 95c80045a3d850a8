// The policy configuration schema: plain data, as the daemon reads it from YAML. Compiled by
// `compilePolicy` (which validates every field and throws PolicyConfigError naming the bad one).
//
//   import:
//     default: accept
//     terms:
//       - name: no-bogons
//         match: { prefixList: [{ prefix: 10.0.0.0/8, le: 32 }] }
//         action: reject
//       - name: prefer-customer
//         match: { communities: { any: ["65000:100"] } }
//         set: { localPref: 200, communities: { remove: ["65000:100"] } }
//         action: accept

/** A prefix-list entry. Without ge/le it matches the prefix exactly; with them, any longer prefix inside it whose length is in [ge ?? length, le ?? max]. */
export interface PrefixListEntry {
  readonly prefix: string;
  readonly ge?: number;
  readonly le?: number;
}

/** Community values: "65000:100", a 32-bit number, or "no-export" / "no-advertise" / "no-export-subconfed". */
export type CommunityValue = string | number;

/** Matches when the route carries any of `any` (if given) and all of `all` (if given). */
export interface CommunityMatch {
  readonly any?: readonly CommunityValue[];
  readonly all?: readonly CommunityValue[];
}

/** Large communities as "global:local1:local2". */
export interface LargeCommunityMatch {
  readonly any?: readonly string[];
  readonly all?: readonly string[];
}

export interface AsPathMatch {
  /** Any of these ASNs appears anywhere in the path. */
  readonly contains?: readonly number[];
  /** The originating (rightmost) AS is one of these. */
  readonly originAs?: readonly number[];
  /** The neighbour (leftmost) AS is one of these. */
  readonly neighborAs?: readonly number[];
  /** Decision-process path length (AS_SET counts 1) within [min, max]. */
  readonly length?: { readonly min?: number; readonly max?: number };
  /**
   * A regular expression over the path text ("65001 65002 {65003,65004}"; confederation segments
   * in parentheses / brackets). `_` matches a boundary (start, end, space, brace), as in Cisco/FRR.
   */
  readonly regex?: string;
}

/** All given conditions must hold (an absent condition matches everything). */
export interface MatchConfig {
  readonly family?: 'ipv4-unicast' | 'ipv6-unicast';
  /** Any entry matching is enough. */
  readonly prefixList?: readonly PrefixListEntry[];
  readonly communities?: CommunityMatch;
  readonly largeCommunities?: LargeCommunityMatch;
  readonly asPath?: AsPathMatch;
  /** The next hop lies in any of these prefixes. */
  readonly nextHop?: readonly string[];
}

export interface CommunityChange<T> {
  /** Replaces the whole list first (an empty list removes all). */
  readonly replace?: readonly T[];
  readonly remove?: readonly T[];
  readonly add?: readonly T[];
}

export interface SetConfig {
  readonly localPref?: number;
  /** A number, or "remove" to drop the MED. */
  readonly med?: number | 'remove';
  readonly communities?: CommunityChange<CommunityValue>;
  readonly largeCommunities?: CommunityChange<string>;
  /** Prepends `asn` (default: the local AS) `count` times. */
  readonly asPathPrepend?: { readonly asn?: number; readonly count: number };
  /** An address, or "self" (the local address of the session). */
  readonly nextHop?: string;
}

export const PolicyAction = { ACCEPT: 'accept', REJECT: 'reject', NEXT: 'next' } as const;
export type PolicyAction = (typeof PolicyAction)[keyof typeof PolicyAction];

export interface TermConfig {
  readonly name?: string;
  readonly match?: MatchConfig;
  /** What to do with the changes applied: accept (stop), reject (stop), next (continue with the next term). Default accept. */
  readonly action?: PolicyAction;
  readonly set?: SetConfig;
}

export interface PolicyConfig {
  readonly terms?: readonly TermConfig[];
  /** When no term stops evaluation (default accept). */
  readonly default?: 'accept' | 'reject';
}
