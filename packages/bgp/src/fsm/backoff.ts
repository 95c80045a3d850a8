// Connect-retry and idle-hold back-off: exponential, capped, with RFC 4271 §10 jitter (the value
// is multiplied by a random factor in [0.75, 1]). Pure given the random number.

export interface BackoffPolicy {
  /** Seconds for the first attempts (attempt 0 and 1). */
  readonly base: number;
  /** Cap in seconds (before jitter). */
  readonly max: number;
}

/** Defaults: connect retry 5 s doubling to 120 s (RFC 4271 suggests 120 s; BIRD and FRR use it as the cap). */
export const DEFAULT_CONNECT_RETRY: BackoffPolicy = { base: 5, max: 120 };
/** Idle hold after an error: 5 s doubling to 300 s, as BIRD's error wait time. */
export const DEFAULT_IDLE_HOLD: BackoffPolicy = { base: 5, max: 300 };

/**
 * Milliseconds to wait before attempt `attempt` (0 or 1: `base`; then doubling up to `max`),
 * jittered by `random01` (a number in [0, 1)).
 */
export function backoffMs(policy: BackoffPolicy, attempt: number, random01: number): number {
  const exp = Math.max(0, attempt - 1);
  const seconds = Math.min(policy.max, policy.base * 2 ** Math.min(exp, 30));
  const jitter = 0.75 + 0.25 * Math.min(Math.max(random01, 0), 1);
  return Math.round(seconds * 1000 * jitter);
}
