// Runs CNI plugin invocations at once, as a runtime on the node would (no `ip netns exec` per
// call), and prints each one's wall time. Jobs on stdin: [{ plugin, env, stdin }]. Started once per
// burst inside the node's namespace, so the bench process (which also hosts the embedded
// apiserver) does not spawn 20 processes in the middle of the measurement.
const { spawn } = require('node:child_process');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  input += d;
});
process.stdin.on('end', async () => {
  const jobs = JSON.parse(input);
  const results = await Promise.all(
    jobs.map(
      (job) =>
        new Promise((resolve) => {
          const t0 = performance.now();
          const child = spawn(job.plugin, [], { env: { PATH: process.env.PATH, ...job.env } });
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (d) => {
            stdout += d;
          });
          child.stderr.setEncoding('utf8').on('data', (d) => {
            stderr += d;
          });
          child.stdin.on('error', () => {});
          child.stdin.end(job.stdin);
          child.on('close', (code) => resolve({ exitCode: code ?? 1, ms: performance.now() - t0, stdout, stderr }));
        }),
    ),
  );
  process.stdout.write(JSON.stringify(results));
});
