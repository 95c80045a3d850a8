/** A policy or neighbor configuration that cannot be used; `field` is the path of the bad value. */
export class PolicyConfigError extends Error {
  override readonly name = 'PolicyConfigError';
  /** Path of the offending field, e.g. `import.terms[2].match.prefixList[0].le`. */
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}
