import { execa } from 'execa';

export interface CommandResult {
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command that exited non-zero; the message carries everything needed to see why. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly result: CommandResult;
  constructor(result: CommandResult) {
    super(
      `command failed (exit ${result.exitCode}): ${result.command}\n${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.result = result;
  }
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Runs a command to completion and returns its output whatever the exit code. */
export async function tryRun(file: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const r = await execa(file, args, {
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs ?? 60_000,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  return {
    command: [file, ...args].join(' '),
    exitCode: r.exitCode ?? (r.timedOut ? 124 : 128),
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + (r.timedOut ? `\n(timed out after ${opts.timeoutMs ?? 60_000} ms)` : ''),
  };
}

/** Runs a command and throws a {@link CommandError} unless it exits 0. */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const r = await tryRun(file, args, opts);
  if (r.exitCode !== 0) throw new CommandError(r);
  return r;
}
