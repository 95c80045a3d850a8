import { type ChildProcess, spawn } from 'node:child_process';

export interface ProcessExit {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
}

/**
 * A long-running process started by the kit. It is only ever stopped by its own PID, and
 * its output is kept so a failing test can show what the process said.
 */
export class ManagedProcess implements AsyncDisposable {
  #output = '';
  #exit: ProcessExit | undefined;
  readonly #done: Promise<ProcessExit>;
  readonly #waiters = new Set<() => void>();

  readonly description: string;
  readonly pid: number;

  private constructor(description: string, child: ChildProcess) {
    if (child.pid === undefined) throw new Error(`could not start ${description}`);
    this.description = description;
    this.pid = child.pid;
    const append = (chunk: Buffer): void => {
      this.#output += chunk.toString();
      for (const w of this.#waiters) w();
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.#done = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ exitCode: code ?? undefined, signal: signal ?? undefined }));
    });
    void this.#done.then((exit) => {
      this.#exit = exit;
      for (const w of this.#waiters) w();
    });
  }

  static start(
    file: string,
    args: readonly string[],
    opts: { env?: Readonly<Record<string, string>>; cwd?: string } = {},
  ): ManagedProcess {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    return new ManagedProcess([file, ...args].join(' '), child);
  }

  get output(): string {
    return this.#output;
  }

  get exited(): ProcessExit | undefined {
    return this.#exit;
  }

  /** Resolves when the output matches `pattern`; rejects if the process exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.#output.match(pattern);
        if (m) {
          finish(() => resolve(m));
          return;
        }
        if (this.#exit) {
          finish(() =>
            reject(
              new Error(
                `${this.description} exited (${JSON.stringify(this.#exit)}) before printing ${pattern}:\n${this.#output}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${pattern} from ${this.description}:\n${this.#output}`,
              ),
            ),
          ),
        timeoutMs,
      );
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        f();
      };
      this.#waiters.add(check);
      check();
    });
  }

  wait(): Promise<ProcessExit> {
    return this.#done;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5_000): Promise<ProcessExit> {
    if (this.#exit) return this.#exit;
    signalPid(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalPid(this.pid, 'SIGKILL'), graceMs);
    try {
      return await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.#exit) signalPid(this.pid, sig);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}
