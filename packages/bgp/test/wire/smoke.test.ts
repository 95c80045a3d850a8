import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CODEC_OPTIONS,
  decodeMessage,
  encodeMessage,
  encodeUpdates,
  localOpen,
  MessageFramer,
  NO_CAPABILITIES,
  parsePrefix,
} from '../../src/wire/index.js';

describe('wire codec smoke', () => {
  it('round-trips an OPEN and an UPDATE through the framer', () => {
    const open = localOpen({
      asn: 4200000001,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: { ...NO_CAPABILITIES, multiprotocol: ['ipv4-unicast'], routeRefresh: true },
    });
    const bytes = encodeMessage(open, DEFAULT_CODEC_OPTIONS);
    const [upd] = encodeUpdates(
      { origin: 0, asPath: [{ type: 2, asns: [4200000001, 65001] }] },
      [{ prefix: parsePrefix('10.0.0.0/24') }],
      'ipv4-unicast',
      '192.0.2.1',
      DEFAULT_CODEC_OPTIONS,
    );
    const f = new MessageFramer();
    f.push(bytes);
    f.push(upd!);
    const m1 = decodeMessage(f.next()!, DEFAULT_CODEC_OPTIONS);
    expect(m1.kind === 'message' && m1.message).toEqual(open);
    const m2 = decodeMessage(f.next()!, DEFAULT_CODEC_OPTIONS);
    expect(m2.kind).toBe('message');
    if (m2.kind !== 'message' || m2.message.type !== 2) throw new Error('not an update');
    expect(m2.message.attributes.asPath).toEqual([{ type: 2, asns: [4200000001, 65001] }]);
    expect(m2.message.nlri).toEqual([{ prefix: parsePrefix('10.0.0.0/24') }]);
  });
});
