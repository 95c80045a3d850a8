import { describe, expect, it } from 'vitest';
import { requireRoot, runInUml } from '../src/index.js';

requireRoot('the user-mode Linux tests');

describe('runInUml', () => {
  it('creates an ipip tunnel between two namespaces and pings across it', async () => {
    const r = await runInUml(`
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 192.0.2.1/24 dev va; ip -n a link set va up; ip -n a link set lo up
ip -n b addr add 192.0.2.2/24 dev vb; ip -n b link set vb up; ip -n b link set lo up
ip -n a link add tunl1 type ipip local 192.0.2.1 remote 192.0.2.2
ip -n b link add tunl1 type ipip local 192.0.2.2 remote 192.0.2.1
ip -n a link set tunl1 up; ip -n a addr add 10.244.0.1/32 dev tunl1; ip -n a route add 10.244.1.1/32 dev tunl1
ip -n b link set tunl1 up; ip -n b addr add 10.244.1.1/32 dev tunl1; ip -n b route add 10.244.0.1/32 dev tunl1
ip -n a -d link show tunl1
ip netns exec a ping -n -c 2 -W 2 -I 10.244.0.1 10.244.1.1
`);
    expect(r.output).toMatch(/ipip (any )?remote 192\.0\.2\.2 local 192\.0\.2\.1/);
    expect(r.output).toMatch(/2 packets transmitted, 2 received/);
    expect(r.exitCode).toBe(0);
  });

  it('reports a failing script with its exit code and output', async () => {
    const r = await runInUml('echo about to fail; exit 3', { modules: [] });
    expect(r.exitCode).toBe(3);
    expect(r.output).toContain('about to fail');
  });
});
