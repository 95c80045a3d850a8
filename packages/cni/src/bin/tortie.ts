// The CNI plugin executable (`type: tortie`). Kept tiny: everything heavy loads lazily.
import { runPlugin } from '../plugin.js';

async function main(): Promise<number> {
  const chunks: Buffer[] = [];
  if (process.env.CNI_COMMAND !== 'VERSION' || !process.stdin.isTTY) {
    for await (const c of process.stdin) chunks.push(c as Buffer);
  }
  const out = await runPlugin(process.env, Buffer.concat(chunks).toString('utf8'));
  await new Promise<void>((resolve) => process.stdout.write(out.stdout, () => resolve()));
  return out.exitCode;
}

main().then(
  // exit at once: an API client's keep-alive sockets must not hold the runtime up
  (code) => process.exit(code),
  (e: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ cniVersion: '1.1.0', code: 5, msg: `tortie plugin crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` })}\n`,
      () => process.exit(1),
    );
  },
);
