import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumpYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { crdFileName, loadCrds, TORTIE_API_GROUP } from '../src/index.js';

const render = (c: object): string => `---\n${dumpYaml(c, { lineWidth: 120, quotingType: '"' })}`;
const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy/crds');

describe('CRDs', () => {
  // TORTIE_WRITE_CRDS=1 regenerates deploy/crds from src/crds.ts.
  if (process.env.TORTIE_WRITE_CRDS === '1') {
    for (const c of loadCrds()) writeFileSync(join(dir, crdFileName(c)), render(c));
  }

  it('deploy/crds holds exactly the generated CRDs, one file each', () => {
    const crds = loadCrds();
    expect(crds.map((c) => (c.spec as { names: { kind: string } }).names.kind)).toEqual([
      'IPPool',
      'IPAMBlock',
      'BlockAffinity',
      'IPAMHandle',
      'IPAMConfig',
      'BGPConfiguration',
      'BGPPeer',
    ]);
    expect(readdirSync(dir).sort()).toEqual(crds.map(crdFileName).sort());
    for (const c of crds) {
      expect(readFileSync(join(dir, crdFileName(c)), 'utf8')).toBe(render(c));
      expect((c.spec as { group: string }).group).toBe(TORTIE_API_GROUP);
    }
  });
});
