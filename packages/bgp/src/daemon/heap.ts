// tortie-bgpd trades a little speed for memory: V8's --optimize-for-size keeps the young
// generation small and grows the heap conservatively. Measured with bench/dut-bench.mjs at 1M
// prefixes: RSS growth 65 instead of 110 bytes per prefix, peak RSS 150 instead of 207 MiB, the
// same announce and withdraw times within noise. Set before the RIB allocates anything.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
