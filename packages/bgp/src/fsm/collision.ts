// RFC 4271 §6.8 connection collision resolution, with RFC 6286 §2.3 for equal identifiers.

/** Which of two connections to the same peer survives. */
export type CollisionWinner = 'locally-initiated' | 'remotely-initiated';

/** A dotted quad as an unsigned 32-bit number (host order). */
export function bgpIdToNumber(id: string): number {
  const parts = id.split('.');
  if (parts.length !== 4) throw new TypeError(`BGP identifier "${id}" is not a dotted quad (a.b.c.d)`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new TypeError(`BGP identifier "${id}" is not a dotted quad (a.b.c.d)`);
    n = n * 256 + v;
  }
  return n;
}

/**
 * The connection initiated by the speaker with the higher BGP identifier wins (§6.8). When the
 * identifiers are equal (allowed between different ASes by RFC 6286), the one initiated by the
 * speaker with the larger AS number wins.
 */
export function resolveCollision(
  localId: string,
  remoteId: string,
  localAs: number,
  remoteAs: number,
): CollisionWinner {
  const l = bgpIdToNumber(localId);
  const r = bgpIdToNumber(remoteId);
  if (l !== r) return l > r ? 'locally-initiated' : 'remotely-initiated';
  return localAs > remoteAs ? 'locally-initiated' : 'remotely-initiated';
}
