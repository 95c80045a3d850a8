// The tortie-bgpd command line:
//   tortie-bgpd --config FILE                      run the daemon
//   tortie-bgpd --check --config FILE              validate the config and exit
//   tortie-bgpd status --socket PATH [--routes] [--family F] [-o json]
import './heap.js';
import { ConfigError } from './config.js';
import { Daemon } from './daemon.js';
import { formatNeighbors, formatRoutes, type NeighborStatus, queryStatus, type RouteStatus } from './status.js';

const USAGE = `usage:
  tortie-bgpd --config FILE [-R]       run the BGP daemon (-R: we restarted; graceful restart
                                       peers keep our routes until our End-of-RIB)
  tortie-bgpd --check --config FILE    validate FILE and exit
  tortie-bgpd status --socket PATH [--routes [--family ipv4-unicast|ipv6-unicast] [--prefix P] [--limit N]] [-o json]`;

class UsageError extends Error {}

function parse(argv: readonly string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  const withValue = new Set(['--config', '--socket', '-o', '--output', '--family', '--prefix', '--limit']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      out.set(a === '--output' ? '-o' : a, v);
      i++;
    } else if (a === '-R' || a === '--restarting') out.set('-R', true);
    else if (a === '--routes' || a === '--check' || a === '--help' || a === '-h') out.set(a, true);
    else throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
  }
  return out;
}

async function status(args: Map<string, string | true>): Promise<number> {
  const socket = args.get('--socket');
  if (typeof socket !== 'string') throw new UsageError('status needs --socket PATH');
  const output = args.get('-o') ?? 'table';
  if (output !== 'json' && output !== 'table') throw new UsageError(`-o must be json or table, got ${String(output)}`);
  if (args.get('--routes')) {
    const family = args.get('--family');
    const prefix = args.get('--prefix');
    const limitText = args.get('--limit');
    const limit = typeof limitText === 'string' ? Number(limitText) : undefined;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      throw new UsageError(`--limit must be a positive integer, got ${String(limitText)}`);
    const routes = (await queryStatus(socket, {
      method: 'routes',
      ...(typeof family === 'string' ? { family } : {}),
      ...(typeof prefix === 'string' ? { prefix } : {}),
      ...(limit === undefined ? {} : { limit }),
    })) as RouteStatus[];
    process.stdout.write(output === 'json' ? `${JSON.stringify(routes, null, 2)}\n` : `${formatRoutes(routes)}\n`);
  } else {
    const neighbors = (await queryStatus(socket, { method: 'neighbors' })) as NeighborStatus[];
    process.stdout.write(
      output === 'json' ? `${JSON.stringify(neighbors, null, 2)}\n` : `${formatNeighbors(neighbors)}\n`,
    );
  }
  return 0;
}

async function run(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'status') return status(parse(argv.slice(1)));
  const args = parse(argv);
  if (args.get('--help') || args.get('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = args.get('--config');
  if (typeof config !== 'string') throw new UsageError('--config FILE is required');
  if (args.get('--check')) {
    await Daemon.load(config);
    process.stdout.write(`${config}: ok\n`);
    return 0;
  }
  const d = await Daemon.start(config, { restarting: args.get('-R') === true });
  let stopping = false;
  process.on('SIGHUP', () => {
    d.log('info', 'SIGHUP: reloading configuration');
    void d.reload();
  });
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    d.log('info', `${sig}: stopping`);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    d.shutdown().then(
      () => process.exit(0),
      (e: unknown) => {
        d.log('error', `shutdown: ${String(e)}`);
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return new Promise<number>(() => {});
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`tortie-bgpd: ${e.message}\n${USAGE}\n`);
      process.exit(64);
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`tortie-bgpd: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tortie-bgpd: ${(e as Error).message ?? String(e)}\n`);
    process.exit(1);
  },
);
