import { spawn } from 'node:child_process';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program to completion, feeding `input` on stdin. Never throws for a non-zero exit.
 * `fds` are open descriptors of this process handed to the child as its fds 3, 4, ….
 */
export function exec(
  file: string,
  args: readonly string[],
  input?: string,
  fds: readonly number[] = [],
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe', ...fds] });
    if (child.stdout === null || child.stderr === null || child.stdin === null) {
      reject(new Error(`spawning ${file}: no pipes`));
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => {
      // the program may exit before reading all of its input; its exit status tells what happened
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * `ip` in this process's network namespace, or in the namespace at `netnsPath` through nsenter
 * (iproute2's `-n` only accepts names under /run/netns, the runtime may hand us /proc/PID/ns/net).
 */
export function ip(
  args: readonly string[],
  opts: { netns?: string; input?: string; fds?: readonly number[] } = {},
): Promise<ExecResult> {
  if (opts.netns === undefined) return exec('ip', args, opts.input, opts.fds);
  return exec('nsenter', [`--net=${opts.netns}`, '--', 'ip', ...args], opts.input, opts.fds);
}
