// tortie-bgpd trades a little speed for memory: V8's --optimize-for-size keeps the young
// generation small and grows the heap conservatively. Measured with bench/dut-bench.mjs at 1M
// prefixes: RSS growth 65 instead of 110 bytes per prefix, peak RSS 150 instead of 207 MiB, the
// same announce and withdraw times within noise. Set before the RIB allocates anything.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');

/**
 * ...but once the JS heap is large, let the old generation double when it grows. The RIB's
 * per-prefix data lives in typed arrays outside the JS heap, so the heap only gets large with
 * many attribute sets (a few prefixes per UPDATE): hundreds of thousands of small objects, where
 * growing by small steps meant a full GC every few MB (bench --shapes distinct at 1M: 3.0 -> 2.0 s
 * to announce). Small heaps keep the compact setting (at 100k packed prefixes the doubling cost
 * 110 bytes of RSS per prefix).
 */
const LARGE_HEAP = 64 * 1024 * 1024;
let growing = false;
setInterval(() => {
  const large = getHeapStatistics().used_heap_size > LARGE_HEAP;
  if (large === growing) return;
  growing = large;
  setFlagsFromString(large ? '--heap-growing-percent=100' : '--heap-growing-percent=0');
}, 500).unref();
