import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export interface UmlOptions {
  /** Kernel modules to load, relative to the UML module tree, without `.ko`. */
  readonly modules?: readonly string[];
  readonly memoryMb?: number;
  readonly timeoutMs?: number;
}

export interface UmlResult {
  readonly exitCode: number;
  /** What the script wrote to stdout and stderr. */
  readonly output: string;
  /** The kernel console, for diagnosing a boot that went wrong. */
  readonly console: string;
}

export const UML_BINARY = '/usr/bin/linux.uml';
const UML_MODULES = '/usr/lib/uml/modules';
/** The host kernel lacks these; the UML kernel has them as modules. */
export const IPIP_MODULES = ['drivers/net/veth', 'net/ipv4/tunnel4', 'net/ipv4/ip_tunnel', 'net/ipv4/ipip'] as const;

export class UmlError extends Error {
  override readonly name = 'UmlError';
}

/**
 * Boots user-mode Linux with the host filesystem as its root and runs `script` (POSIX sh)
 * as root inside it, with proc, sys, /run and /tmp mounted and `modules` loaded. The
 * script's own /tmp is private to the guest, so results go back through the returned output.
 */
export async function runInUml(script: string, opts: UmlOptions = {}): Promise<UmlResult> {
  if (!existsSync(UML_BINARY)) {
    throw new UmlError(`${UML_BINARY} not found: apt-get install user-mode-linux kmod`);
  }
  // Not under /tmp: the guest mounts a tmpfs there and would not see it.
  const dir = await mkdtemp('/var/tmp/tortie-uml-');
  try {
    const modules = opts.modules ?? IPIP_MODULES;
    const init = [
      '#!/bin/sh',
      `export PATH=${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      'export HOME=/root',
      'mount -t proc proc /proc',
      'mount -t sysfs sys /sys',
      'mount -t tmpfs tmpfs /run',
      'mount -t tmpfs tmpfs /tmp',
      `M=${UML_MODULES}/$(uname -r)/kernel`,
      ...modules.map((m) => `insmod "$M/${m}.ko" || echo "insmod ${m} failed" >> ${dir}/output`),
      'ip link set lo up',
      `( sh -e ${dir}/script.sh ) >> ${dir}/output 2>&1`,
      `echo $? > ${dir}/exit`,
      'sync',
      'poweroff -f',
    ].join('\n');
    await writeFile(join(dir, 'init.sh'), `${init}\n`, { mode: 0o755 });
    await writeFile(join(dir, 'script.sh'), script, { mode: 0o755 });
    await writeFile(join(dir, 'output'), '');
    const r = await execa(
      UML_BINARY,
      [
        `umid=tortie-${process.pid}-${dir.slice(-6)}`,
        'root=/dev/root',
        'rootfstype=hostfs',
        'rootflags=/',
        'rw',
        `mem=${opts.memoryMb ?? 1024}M`,
        `init=${join(dir, 'init.sh')}`,
        'con=null',
        'con0=fd:0,fd:1',
      ],
      { reject: false, stdin: 'ignore', all: true, timeout: opts.timeoutMs ?? 120_000, env: { TMPDIR: dir } },
    );
    const consoleText = String(r.all ?? '');
    const output = await readFile(join(dir, 'output'), 'utf8');
    const exit = await readFile(join(dir, 'exit'), 'utf8').catch(() => undefined);
    if (exit === undefined) {
      throw new UmlError(
        `user-mode Linux did not finish the script${r.timedOut ? ' (timed out)' : ''}; console:\n${consoleText.slice(-4000)}\noutput:\n${output}`,
      );
    }
    return { exitCode: Number(exit.trim()), output, console: consoleText };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
