// A small subset of Calico's selector language, enough for pool nodeSelectors:
// `all()`, `has(k)`, `!has(k)`, `k == 'v'`, `k != 'v'`, combined with `&&`. Empty means all().
import { ValidationError } from './errors.js';

type Term =
  | { readonly op: 'all' }
  | { readonly op: 'has' | 'nothas'; readonly key: string }
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string };

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const TERM_PATTERNS: readonly [RegExp, (m: RegExpExecArray) => Term][] = [
  [/^all\(\)$/, () => ({ op: 'all' })],
  [new RegExp(`^has\\((${KEY})\\)$`), (m) => ({ op: 'has', key: m[1] ?? '' })],
  [new RegExp(`^!\\s*has\\((${KEY})\\)$`), (m) => ({ op: 'nothas', key: m[1] ?? '' })],
  [
    new RegExp(`^(${KEY})\\s*(==|!=)\\s*(?:'([^']*)'|"([^"]*)")$`),
    (m) => ({ op: m[2] === '==' ? 'eq' : 'ne', key: m[1] ?? '', value: m[3] ?? m[4] ?? '' }),
  ],
];

export function parseSelector(text: string | undefined, field = 'spec.nodeSelector'): readonly Term[] {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return [{ op: 'all' }];
  return trimmed.split('&&').map((raw) => {
    const t = raw.trim();
    for (const [re, make] of TERM_PATTERNS) {
      const m = re.exec(t);
      if (m) return make(m);
    }
    throw new ValidationError(
      field,
      `unsupported selector term "${t}" (use all(), has(k), !has(k), k == 'v', k != 'v', joined by &&)`,
    );
  });
}

export function selectorMatches(text: string | undefined, labels: Readonly<Record<string, string>>): boolean {
  return parseSelector(text).every((t) => {
    switch (t.op) {
      case 'all':
        return true;
      case 'has':
        return t.key in labels;
      case 'nothas':
        return !(t.key in labels);
      case 'eq':
        return labels[t.key] === t.value;
      case 'ne':
        return labels[t.key] !== t.value;
      default:
        return false;
    }
  });
}
