import { defineConfig } from 'vitest/config';

const packages = ['bgp', 'ipam', 'agent', 'cni', 'ctl', 'apiserver'] as const;

// Workspace packages resolve to their TypeScript sources under test, so tests never run
// against a stale dist/ build.
const resolve = { conditions: ['@tortie/source'] };

export default defineConfig({
  resolve,
  test: {
    reporters: ['default'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
      })),
      { extends: true as const, test: { name: 'testkit', root: 'test', include: ['test/**/*.test.ts'] } },
      { extends: true as const, test: { name: 'e2e', root: 'e2e', include: ['**/*.test.ts'] } },
    ],
  },
});
