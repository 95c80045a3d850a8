// Bounded, jittered retries for optimistic concurrency. The callback must re-read what it
// writes on every attempt: retrying never replays a stale object.
import { ConflictError, RetriesExhaustedError, TransientApiError } from './errors.js';

export interface RetryOptions {
  /** Attempts in total, including the first. Default 20. */
  readonly maxAttempts?: number;
  /** First back-off ceiling in ms (full jitter: a uniform delay in [0, ceiling]). Default 5. */
  readonly baseDelayMs?: number;
  /** Back-off ceiling cap in ms. Default 500. */
  readonly maxDelayMs?: number;
}

export const isRetryable = (e: unknown): boolean => e instanceof ConflictError || e instanceof TransientApiError;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function withRetries<T>(
  what: string,
  opts: RetryOptions,
  fn: (attempt: number) => Promise<T>,
): Promise<T> {
  const max = opts.maxAttempts ?? 20;
  const base = opts.baseDelayMs ?? 5;
  const cap = opts.maxDelayMs ?? 500;
  let last: unknown;
  for (let attempt = 0; attempt < max; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isRetryable(e)) throw e;
      last = e;
      // Full jitter: contenders that collided once spread out instead of colliding again.
      await sleep(Math.random() * Math.min(cap, base * 2 ** attempt));
    }
  }
  throw new RetriesExhaustedError(what, max, last);
}
