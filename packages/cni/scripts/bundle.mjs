#!/usr/bin/env node
// Bundles the plugin and the node daemon into single files under dist/bundle/.
// The plugin is CommonJS so that it runs extensionless from /opt/cni/bin.
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
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
  ['src/bin/tortie.ts', 'tortie'],
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
process.stdout.write(`bundled ${entries.map(([, o]) => `${outdir}/${o}`).join(', ')}\n`);
