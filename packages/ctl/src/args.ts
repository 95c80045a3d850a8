// A small argument parser: `--flag value`, `--flag=value`, `-o value`, boolean flags, positionals.
// Anything unknown or malformed is a UsageError naming the argument (exit status 2).

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  /** Takes a value (otherwise boolean). */
  readonly value: boolean;
  /** Short alias, e.g. `-o`. */
  readonly short?: string;
}

export interface Parsed {
  readonly flags: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

export function parseFlags(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): Parsed {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const given = eq > 0 ? arg.slice(0, eq) : arg;
    const name = given.startsWith('--') ? given.slice(2) : byShort.get(given.slice(1));
    const s = name === undefined ? undefined : spec[name];
    if (name === undefined || s === undefined) throw new UsageError(`${given}: unknown flag`);
    if (!s.value) {
      if (eq > 0) throw new UsageError(`${given}: takes no value`);
      flags.set(name, true);
      continue;
    }
    let v: string | undefined;
    if (eq > 0) v = arg.slice(eq + 1);
    else {
      v = argv[++i];
      if (v === undefined || (v.startsWith('-') && v !== '-')) throw new UsageError(`${given}: needs a value`);
    }
    if (v === '') throw new UsageError(`${given}: needs a value`);
    flags.set(name, v);
  }
  return { flags, positionals };
}

export const OUTPUTS = ['table', 'json'] as const;
export type Output = (typeof OUTPUTS)[number];

export function outputOf(p: Parsed): Output {
  const o = p.flags.get('output');
  if (o === undefined || o === true) return 'table';
  if ((OUTPUTS as readonly string[]).includes(o)) return o as Output;
  throw new UsageError(`-o/--output: "${o}" is not one of ${OUTPUTS.join(', ')}`);
}

export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}
