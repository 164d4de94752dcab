import { describe, expect, it } from 'vitest';
import { parseTransportId, formatTransportId } from '../../../src/initiator/transport-id.js';

const NQN = 'nqn.2024-01.io.example:disk0';

describe('parseTransportId, URI form', () => {
  it('reads host, port, NQN and nsid', () => {
    expect(parseTransportId(`tcp://127.0.0.1:4421/${NQN}?nsid=3`)).toEqual({
      trtype: 'tcp',
      traddr: '127.0.0.1',
      trsvcid: '4421',
      subnqn: NQN,
      nsid: 3,
    });
  });

  it('keeps the colons of an NQN verbatim and defaults the port to 4420', () => {
    const id = parseTransportId(
      'tcp://storage.local/nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427',
    );
    expect(id.trsvcid).toBe('4420');
    expect(id.subnqn).toBe('nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427');
  });

  it('takes IPv6 in brackets', () => {
    const id = parseTransportId(`tcp://[::1]:4420/${NQN}`);
    expect(id.traddr).toBe('::1');
    expect(formatTransportId(id)).toBe(`tcp://[::1]:4420/${NQN}`);
  });

  it('accepts an address without NQN (for discovery)', () => {
    expect(parseTransportId('tcp://10.0.0.1:8009').subnqn).toBeUndefined();
    expect(parseTransportId('tcp://10.0.0.1:8009/').subnqn).toBeUndefined();
  });

  it('round-trips through formatTransportId', () => {
    const text = `tcp://10.1.2.3:4420/${NQN}?nsid=7`;
    expect(formatTransportId(parseTransportId(text))).toBe(text);
  });

  it.each([
    ['rdma://1.2.3.4:4420/x', /only the tcp/],
    ['tcp://1.2.3.4:70000/x', /port "70000"/],
    ['tcp://1.2.3.4:44a/x', /port "44a"/],
    [`tcp://1.2.3.4:4420/${NQN}?nsid=0`, /namespace ID "0"/],
    [`tcp://1.2.3.4:4420/${NQN}?foo=1`, /unknown parameter "foo"/],
    ['1.2.3.4:4420', /expected tcp:\/\//],
  ])('rejects %s with one sentence', (text, why) => {
    expect(() => parseTransportId(text)).toThrow(why);
    expect(() => parseTransportId(text)).toThrow(RangeError);
  });
});

describe('parseTransportId, SPDK form', () => {
  it('reads the fio SPDK plugin filename, with escaped colons', () => {
    expect(
      parseTransportId(
        'trtype=tcp adrfam=IPv4 traddr=127.0.0.1 trsvcid=4420 subnqn=nqn.2024-01.io.example\\:disk0 ns=1',
      ),
    ).toEqual({ trtype: 'tcp', traddr: '127.0.0.1', trsvcid: '4420', subnqn: NQN, nsid: 1 });
  });

  it('reads keys in any case and order', () => {
    expect(parseTransportId(`SUBNQN=${NQN} TRADDR=::1 TRTYPE=TCP TRSVCID=4421`)).toEqual({
      trtype: 'tcp',
      traddr: '::1',
      trsvcid: '4421',
      subnqn: NQN,
    });
  });

  it.each([
    ['trtype=rdma traddr=1.2.3.4', /trtype must be tcp/],
    ['trtype=tcp trsvcid=4420', /traddr is missing/],
    ['trtype=tcp traddr=1.2.3.4 adrfam=FC', /adrfam "FC"/],
    ['trtype=tcp traddr=1.2.3.4 color=red', /unknown key "color"/],
    ['trtype=tcp traddr=1.2.3.4 ns', /"ns" is not key=value/],
  ])('rejects %s', (text, why) => {
    expect(() => parseTransportId(text)).toThrow(why);
  });
});
