import { defineConfig } from 'vitest/config';

// `pnpm --filter @tortie/cni bench`: the ADD latency benchmark, outside the regular test run.
export default defineConfig({
  root: new URL('..', import.meta.url).pathname,
  resolve: { conditions: ['@tortie/source'] },
  test: { include: ['bench/**/*.bench-test.ts'], testTimeout: 900_000, hookTimeout: 120_000 },
});
