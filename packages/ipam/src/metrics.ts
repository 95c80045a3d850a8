// Prometheus text exposition (version 0.0.4) of the controller's counters.
import type { ControllerMetrics } from './controller.js';

const KINDS = ['node', 'pool', 'gc'] as const;

export function formatMetrics(m: ControllerMetrics): string {
  const out: string[] = [];
  const family = (name: string, help: string, rows: [string, number][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const [labels, v] of rows) out.push(`${name}${labels} ${v}`);
  };
  family(
    'tortie_ipam_reconciles_total',
    'Reconciles started, by kind (node, pool, gc).',
    KINDS.map((k) => [`{kind="${k}"}`, m.reconciles[k]]),
  );
  family(
    'tortie_ipam_reconcile_errors_total',
    'Reconciles that failed (each is retried), by kind.',
    KINDS.map((k) => [`{kind="${k}"}`, m.errors[k]]),
  );
  family('tortie_ipam_gc_released_addresses_total', 'Addresses released by garbage collection (pod gone).', [
    ['', m.gcReleasedAddresses],
  ]);
  family('tortie_ipam_node_released_addresses_total', 'Addresses released because their node was deleted.', [
    ['', m.nodeReleasedAddresses],
  ]);
  family('tortie_ipam_blocks_claimed_total', 'Blocks given to nodes by the controller.', [['', m.blocksClaimed]]);
  family('tortie_ipam_blocks_released_total', 'Empty blocks released.', [['', m.blocksReleased]]);
  family('tortie_ipam_pools_finalized_total', 'Deleted pools let go (finalizer removed).', [['', m.poolsFinalized]]);
  return `${out.join('\n')}\n`;
}
