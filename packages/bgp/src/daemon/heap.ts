// tortie-bgpd trades a little speed for memory: V8's --optimize-for-size keeps the young
// generation small and grows the heap conservatively. Measured with bench/dut-bench.mjs at 1M
// prefixes: RSS growth 65 instead of 110 bytes per prefix, peak RSS 150 instead of 207 MiB, the
// same announce and withdraw times within noise. Set before the RIB allocates anything.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
// ...but let the old generation double when it grows: a table with many attribute sets (a few
// prefixes per UPDATE) keeps hundreds of thousands of small objects alive, and growing it by small
// steps meant a full GC every few MB (bench --shapes distinct at 1M: 3.6 -> 2.3 s to announce, the
// same RSS per prefix, 60 MiB more peak RSS; the packed feed is unchanged).
setFlagsFromString('--heap-growing-percent=100');
