import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tryRun } from '../src/index.js';

// The package boundaries of DESIGN.md are enforced by the toolchain, not by convention:
// package.json "exports" hides internals from the module resolver, project references
// (rootDir per package) refuse source files of another package, and the linter names the rule.
const repo = resolve(import.meta.dirname, '../..');
const tsc = join(repo, 'node_modules/.bin/tsc');
const biome = join(repo, 'node_modules/.bin/biome');
const work = join(repo, '.tmp', `boundary-${process.pid}-${Date.now()}`);

async function project(name: string, files: Record<string, string>, compilerOptions: object = {}): Promise<string> {
  const dir = join(work, name);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(repo, 'tsconfig.base.json'),
      compilerOptions: { rootDir: 'src', outDir: 'dist', ...compilerOptions },
      include: ['src'],
    }),
  );
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, 'src', file), text);
  return dir;
}

beforeAll(async () => {
  await run(tsc, ['-b', join(repo, 'packages/bgp')], { cwd: repo });
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('package boundaries', () => {
  it('accepts an import of a package through its name', async () => {
    const dir = await project('ok', { 'a.ts': "import * as bgp from '@tortie/bgp';\nexport const m = bgp;\n" });
    const r = await tryRun(tsc, ['-b', dir], { cwd: repo });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('fails the build on a deep import of another package', async () => {
    const dir = await project('deep', {
      'a.ts': "import * as internals from '@tortie/bgp/src/index.js';\nexport const m = internals;\n",
    });
    const r = await tryRun(tsc, ['-p', dir, '--noEmit'], { cwd: repo });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toMatch(/TS2307: Cannot find module '@tortie\/bgp\/src\/index\.js'/);
  });

  it("fails the build on a relative import of another package's source", async () => {
    const dir = await project('relative', {
      'a.ts': `import * as internals from '${join(repo, 'packages/bgp/src/index.js')}';\nexport const m = internals;\n`,
    });
    const r = await tryRun(tsc, ['-p', dir, '--noEmit'], { cwd: repo });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toMatch(/TS6059: File '.*packages\/bgp\/src\/index\.ts' is not under 'rootDir'/);
  });

  it('the linter names the rule for a deep import', async () => {
    const dir = await project('lint', {
      'a.ts': "import { x } from '@tortie/bgp/src/wire/open.js';\nexport const y = x;\n",
    });
    const r = await tryRun(biome, ['lint', '--vcs-use-ignore-file=false', join(dir, 'src/a.ts')], { cwd: repo });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/noRestrictedImports[\s\S]*only through its name/);
  });
});
