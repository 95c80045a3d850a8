import { describe, expect, it } from 'vitest';
import { CniError, CniErrorCode, HostBatcher } from '../src/index.js';

// Only read-only `ip` lines (show), so nothing on the host running the tests changes.
describe('HostBatcher (host-side ip lines of concurrent pods in one ip -batch -force)', () => {
  it('groups what arrives while a batch runs, and fails only the jobs whose lines failed', async () => {
    const b = new HostBatcher();
    const settle = (lines: string[], what: string) =>
      b.run(lines, what).then(
        () => 'ok',
        (e: unknown) => e,
      );
    // the first runs at once on its own; the others queue behind it and share the second process
    const [a, fine, bad, dies, after] = await Promise.all([
      settle(['link show lo'], 'a'),
      settle(['link show lo'], 'fine'),
      settle(['link show lo', 'link show tortie-no-such-dev'], 'bad'),
      // ip exits on an argument it cannot parse without naming the line: every job after the last
      // named failure may not have run, so each of them fails (and its pod cleans up)
      settle(['route show table not-a-table'], 'dies'),
      settle(['link show lo'], 'after'),
    ]);
    expect(a).toBe('ok');
    expect(fine).toBe('ok');
    expect(bad).toBeInstanceOf(CniError);
    expect((bad as CniError).code).toBe(CniErrorCode.plumbingFailed);
    expect((bad as CniError).message).toMatch(/^bad failed: .*tortie-no-such-dev/);
    expect((bad as CniError).details).toBe('link show lo\nlink show tortie-no-such-dev');
    for (const e of [dies, after]) {
      expect(e).toBeInstanceOf(CniError);
      expect((e as CniError).message).toMatch(/not-a-table/);
    }
    expect(b.stats).toEqual({ batches: 2, jobs: 5, largest: 4 });
  });
});
