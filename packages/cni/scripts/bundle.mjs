#!/usr/bin/env node
// Builds what ships under dist/bundle/: the native front end `tortie` (shim/tortie-shim.c, C,
// libc only), and the Node plugin and the node daemon as single CommonJS files (extensionless,
// so they run from /opt/cni/bin).
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const outdir = `${root}dist/bundle`;
await mkdir(outdir, { recursive: true });
// inside this "type": "module" package the extensionless bundles must still load as CommonJS
await writeFile(`${outdir}/package.json`, '{ "type": "commonjs" }\n');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // workspace packages (@tortie/ipam) are bundled from their sources
  conditions: ['@tortie/source'],
  banner: {
    js: '#!/usr/bin/env node\nvar __tortie_import_meta_url = require("url").pathToFileURL(__filename).href;',
  },
  legalComments: 'none',
  logLevel: 'warning',
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: true,
  // ESM dependencies that read import.meta.url get the bundle's own URL
  define: { 'import.meta.url': '__tortie_import_meta_url' },
};

const entries = [
  ['src/bin/tortie.ts', 'tortie-node'],
  ['src/bin/tortie-cni.ts', 'tortie-cni'],
  ['src/direct.ts', 'tortie-direct.cjs'],
];
await Promise.all(
  entries.map(async ([entry, out]) => {
    const banner = out.endsWith('.cjs') ? { js: common.banner.js.split('\n')[1] } : common.banner;
    const r = await build({
      ...common,
      banner,
      entryPoints: [`${root}${entry}`],
      outfile: `${outdir}/${out}`,
      write: false,
    });
    // write then rename: a plugin being run (by another test worker) never sees half a file
    const tmp = `${outdir}/.${out}.${process.pid}.tmp`;
    await writeFile(tmp, r.outputFiles[0].contents, { mode: 0o755 });
    await chmod(tmp, 0o755);
    await rename(tmp, `${outdir}/${out}`);
  }),
);

// The front end. Linked statically: it is copied from the DaemonSet image onto hosts whose libc
// may be older than the image's. No compiler is an error, never a silent Node-only build.
const cc = process.env.CC ?? 'cc';
const shimTmp = `${outdir}/.tortie.${process.pid}.tmp`;
const args = ['-O2', '-Wall', '-Werror', '-static', '-s', '-o', shimTmp, `${root}shim/tortie-shim.c`];
const r = spawnSync(cc, args, { encoding: 'utf8' });
if (r.error !== undefined || r.status !== 0) {
  await rm(shimTmp, { force: true });
  const why =
    r.error?.code === 'ENOENT'
      ? `no C compiler: \`${cc}\` is not installed (apt-get install gcc libc6-dev, or set CC)`
      : `\`${cc} ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`;
  process.stderr.write(`cni build: cannot build the plugin front end shim/tortie-shim.c: ${why}\n`);
  process.exit(1);
}
await chmod(shimTmp, 0o755);
await rename(shimTmp, `${outdir}/tortie`);

// The pod-side helper the daemon runs once per burst (netlink in each pod's namespace, no exec).
const podnetTmp = `${outdir}/.tortie-podnet.${process.pid}.tmp`;
const pargs = ['-O2', '-Wall', '-Werror', '-static', '-s', '-o', podnetTmp, `${root}shim/tortie-podnet.c`];
const pr = spawnSync(cc, pargs, { encoding: 'utf8' });
if (pr.error !== undefined || pr.status !== 0) {
  await rm(podnetTmp, { force: true });
  process.stderr.write(
    `cni build: cannot build shim/tortie-podnet.c: \`${cc} ${pargs.join(' ')}\` failed (${pr.error?.message ?? `exit ${pr.status}`}):\n${pr.stderr}\n`,
  );
  process.exit(1);
}
await chmod(podnetTmp, 0o755);
await rename(podnetTmp, `${outdir}/tortie-podnet`);
process.stdout.write(
  `built ${outdir}/tortie (native front end), ${outdir}/tortie-podnet (pod-side helper); bundled ${entries.map(([, o]) => `${outdir}/${o}`).join(', ')}\n`,
);
