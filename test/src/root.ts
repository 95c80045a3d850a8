/** Fails loudly (never skips) when a test that needs root runs without it. */
export function requireRoot(what: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(`${what} needs root (network namespaces, routes); run the tests as root, as CI does`);
  }
}
