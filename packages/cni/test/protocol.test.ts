import { describe, expect, it } from 'vitest';
import {
  CniErrorCode,
  hostVethName,
  parseCniArgs,
  parseEnv,
  parseNetConf,
  podMac,
  runPlugin,
  SUPPORTED_VERSIONS,
} from '../src/index.js';
import { FakeIpam } from './helpers.js';

const conf = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tortie' };

describe('protocol', () => {
  it('VERSION answers in the version asked and lists what it speaks', async () => {
    const r = await runPlugin({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: '1.0.0' }));
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: [...SUPPORTED_VERSIONS] });
    expect(SUPPORTED_VERSIONS).toContain('1.1.0');
  });

  it.each([
    ['unknown cniVersion', { ...conf, cniVersion: '2.0.0' }, CniErrorCode.incompatibleVersion],
    ['malformed JSON', '{"cniVersion": "1.0.0", ', CniErrorCode.decodeFailure],
    ['no cniVersion', { name: 'x', type: 'tortie' }, CniErrorCode.invalidConfig],
    ['bad mtu', { ...conf, mtu: 'big' }, CniErrorCode.invalidConfig],
  ])('%s is a CNI error with the spec code', async (_what, stdin, code) => {
    const r = await runPlugin(
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' },
      typeof stdin === 'string' ? stdin : JSON.stringify(stdin),
      { ipam: () => new FakeIpam() },
    );
    expect(r.exitCode).not.toBe(0);
    const err = JSON.parse(r.stdout) as { code: number; msg: string; cniVersion: string };
    expect(err.code).toBe(code);
    expect(err.msg.length).toBeGreaterThan(20);
  });

  it('requires CNI_NETNS on ADD but not on DEL', () => {
    expect(() => parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' })).toThrow(/CNI_NETNS/);
    expect(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' }).netns).toBe('');
    expect(() => parseEnv({ CNI_COMMAND: 'FROB' })).toThrow(/not a CNI command/);
    expect(() => parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/x', CNI_IFNAME: 'a/b' })).toThrow(
      /interface name/,
    );
  });

  it('parses CNI_ARGS and the GC attachment list', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0')).toEqual({
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: 'default',
      K8S_POD_NAME: 'web-0',
    });
    const c = parseNetConf(
      JSON.stringify({
        ...conf,
        cniVersion: '1.1.0',
        'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }],
      }),
    );
    expect(c.validAttachments).toEqual([{ containerID: 'a', ifname: 'eth0' }]);
    expect(c.ipv4).toBe(true);
    expect(c.ipv6).toBe(false);
  });

  it('names host ends stably, short and with our prefix', () => {
    const a = hostVethName('default', 'web-0', 'c1');
    expect(a).toMatch(/^tt[0-9a-f]{11}$/);
    expect(hostVethName('default', 'web-0', 'c2')).toBe(a);
    expect(hostVethName('default', 'web-1', 'c1')).not.toBe(a);
    expect(podMac('c1', 'eth0')).toMatch(/^0a(:[0-9a-f]{2}){5}$/);
  });
});
