/**
 * `tortie-apiserver --listen ADDR:PORT [--data FILE] [--token-file FILE] [--kubeconfig FILE]
 *  [--tls-cert-file FILE --tls-private-key-file FILE | --plain-http]`
 * Runs until SIGINT/SIGTERM; prints the URL and the kubeconfig path on stdout.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startApiServer } from './index.js';

class UsageError extends Error {
  constructor(message: string) {
    super(
      `${message}\nusage: tortie-apiserver --listen ADDR:PORT [--data FILE] [--token-file FILE] [--kubeconfig FILE] [--tls-cert-file FILE --tls-private-key-file FILE | --plain-http]`,
    );
    this.name = 'UsageError';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:6443' },
      data: { type: 'string' },
      'token-file': { type: 'string' },
      kubeconfig: { type: 'string' },
      'tls-cert-file': { type: 'string' },
      'tls-private-key-file': { type: 'string' },
      'plain-http': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${new UsageError('').message.trim()}\n`);
    return;
  }
  // The token file is read when it exists, created with a random token when it does not.
  let token: string | undefined;
  const tokenFile = values['token-file'];
  if (tokenFile) {
    if (existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim();
    else {
      token = randomBytes(24).toString('hex');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    }
    if (!token) throw new UsageError(`token file ${tokenFile} is empty`);
  }
  const cert = values['tls-cert-file'];
  const key = values['tls-private-key-file'];
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert-file and --tls-private-key-file go together');
  const server = await startApiServer({
    listen: values.listen ?? '127.0.0.1:6443',
    ...(values.data ? { dataFile: values.data } : {}),
    ...(token ? { token } : {}),
    ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
    // HTTPS by default (self-signed unless files are given): kubectl sends tokens only over TLS.
    tls: cert && key ? { certFile: cert, keyFile: key } : !values['plain-http'],
  });
  process.stdout.write(`tortie-apiserver listening on ${server.url}\nkubeconfig: ${server.kubeconfigPath}\n`);
  const shutdown = () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`tortie-apiserver: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
