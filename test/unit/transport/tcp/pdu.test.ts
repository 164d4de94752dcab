/**
 * Every PDU pinned to the byte layout of NVMe/TCP 1.0 (3.6.2.1-3.6.2.10): sizes and offsets,
 * literal golden bytes for the IC PDUs, our encoders compared with the independent test builder
 * under every digest and alignment setting, and decodePdu() reading builder bytes back.
 */
import { describe, expect, it } from 'vitest';
import * as P from '../../../../src/transport/tcp/pdu.js';
import { dataDigest, headerDigest } from '../../../../src/transport/tcp/digest.js';
import * as B from './support/pdu-builder.js';
import { pattern } from './support/block-handler.js';

const tx = (hdgst: boolean, ddgst: boolean, pdoAlignment = 4): P.TxRules => ({
  hdgst,
  ddgst,
  pdoAlignment,
});
const rules = (
  controller: boolean,
  hdgst: boolean,
  ddgst: boolean,
  pdoAlignment = 4,
): P.HeaderRules => ({
  controller,
  hdgst,
  ddgst,
  pdoAlignment,
});
/** Our header + data + our data digest, as sendPdu() puts them on the wire. */
const wire = (header: Buffer, data?: Buffer, ddgst = false): Buffer => {
  if (!data || data.length === 0) return header;
  const parts = [header, data];
  if (ddgst) {
    const d = Buffer.alloc(4);
    d.writeUInt32LE(dataDigest(data));
    parts.push(d);
  }
  return Buffer.concat(parts);
};

const SETTINGS = [
  { hdgst: false, ddgst: false, align: 4 },
  { hdgst: true, ddgst: false, align: 4 },
  { hdgst: false, ddgst: true, align: 4 },
  { hdgst: true, ddgst: true, align: 4 },
  { hdgst: true, ddgst: true, align: 32 },
  { hdgst: false, ddgst: false, align: 128 },
];

describe('layout constants', () => {
  it('pins header sizes and field offsets to the spec figures', () => {
    expect([P.CH_SIZE, P.CH_TYPE, P.CH_FLAGS, P.CH_HLEN, P.CH_PDO, P.CH_PLEN]).toEqual([
      8, 0, 1, 2, 3, 4,
    ]);
    expect(P.IC_PDU_SIZE).toBe(128);
    expect([P.IC_PFV, P.IC_PDA, P.IC_DGST, P.IC_MAXR2T, P.IC_MAXH2CDATA]).toEqual([
      8, 10, 11, 12, 12,
    ]);
    expect([P.TERM_REQ_HLEN, P.TERM_FES, P.TERM_FEI, P.TERM_REQ_MAX_PLEN]).toEqual([
      24, 8, 10, 152,
    ]);
    expect([P.CAPSULE_CMD_HLEN, P.CAPSULE_CMD_SQE]).toEqual([8 + 64, 8]);
    expect([P.CAPSULE_RESP_HLEN, P.CAPSULE_RESP_CQE]).toEqual([8 + 16, 8]);
    expect([P.DATA_PDU_HLEN, P.DATA_CCCID, P.DATA_TTAG, P.DATA_DATAO, P.DATA_DATAL]).toEqual([
      24, 8, 10, 12, 16,
    ]);
    expect([P.R2T_HLEN, P.R2T_CCCID, P.R2T_TTAG, P.R2T_R2TO, P.R2T_R2TL]).toEqual([
      24, 8, 10, 12, 16,
    ]);
    expect(P.DIGEST_SIZE).toBe(4);
    expect(P.pdaAlignment(0)).toBe(4);
    expect(P.pdaAlignment(31)).toBe(128);
  });
});

describe('digests', () => {
  it('is CRC32C: the check value of "123456789" is 0xE3069283', () => {
    const s = Buffer.from('123456789');
    expect(B.crc32c(s)).toBe(0xe3069283);
    expect(dataDigest(s)).toBe(0xe3069283);
    expect(dataDigest([s.subarray(0, 2), s.subarray(2, 7), s.subarray(7)])).toBe(0xe3069283);
    expect(headerDigest(Buffer.concat([s, Buffer.from('xyz')]), 9)).toBe(0xe3069283);
  });
});

describe('ICReq / ICResp', () => {
  it('encodes the literal bytes of an ICReq (3.6.2.2)', () => {
    const golden = Buffer.alloc(128);
    Buffer.from('00008000800000000000' + '1f' + '03' + '0f000000', 'hex').copy(golden);
    expect(P.encodeIcReq({ pfv: 0, hpda: 31, hdgst: true, ddgst: true, maxr2t: 15 })).toEqual(
      golden,
    );
    expect(golden).toEqual(B.icReq({ hpda: 31, dgst: 3, maxr2t: 15 }));
  });

  it('encodes the literal bytes of an ICResp (3.6.2.3)', () => {
    const golden = Buffer.alloc(128);
    Buffer.from('01008000800000000000' + '02' + '02' + '00000200', 'hex').copy(golden);
    expect(
      P.encodeIcResp({ pfv: 0, cpda: 2, hdgst: false, ddgst: true, maxh2cdata: 131072 }),
    ).toEqual(golden);
    expect(golden).toEqual(B.icResp({ cpda: 2, dgst: 2, maxh2cdata: 131072 }));
  });

  it('decodes what the builder built', () => {
    expect(
      P.decodePdu(B.icReq({ hpda: 3, dgst: 1, maxr2t: 7 }), rules(true, false, false)),
    ).toEqual({
      type: P.PduType.IcReq,
      pfv: 0,
      hpda: 3,
      hdgst: true,
      ddgst: false,
      maxr2t: 7,
    });
    expect(
      P.decodePdu(B.icResp({ cpda: 1, dgst: 2, maxh2cdata: 8192 }), rules(false, false, false)),
    ).toEqual({
      type: P.PduType.IcResp,
      pfv: 0,
      cpda: 1,
      hdgst: false,
      ddgst: true,
      maxh2cdata: 8192,
    });
  });
});

describe('TermReq', () => {
  it('encodes FES, FEI and the echoed header (3.6.2.4 / 3.6.2.5)', () => {
    const echo = pattern(40, 1);
    const golden = Buffer.concat([
      Buffer.from(
        '0300' + '1800' + '40000000' + '0100' + '0a000000' + '00000000000000000000',
        'hex',
      ),
      echo,
    ]);
    expect(P.encodeTermReq(P.PduType.C2HTermReq, { fes: 1, fei: 10, header: echo })).toEqual(
      golden,
    );
    expect(golden).toEqual(B.termReq(0x03, 1, 10, echo));
    expect(P.encodeTermReq(P.PduType.H2CTermReq, { fes: 2, fei: 0 })).toEqual(
      B.termReq(0x02, 2, 0),
    );
  });

  it('echoes at most 128 bytes', () => {
    const t = P.encodeTermReq(P.PduType.C2HTermReq, {
      fes: 3,
      fei: 0,
      header: Buffer.alloc(200, 7),
    });
    expect(t.length).toBe(152);
    expect(t.readUInt32LE(4)).toBe(152);
  });

  it('decodes', () => {
    const p = P.decodePdu(B.termReq(0x03, 4, 0, Buffer.from([1, 2, 3])), rules(false, true, true));
    expect(p).toMatchObject({ type: P.PduType.C2HTermReq, fes: 4, fei: 0 });
    expect(p.type === P.PduType.C2HTermReq && [...p.header]).toEqual([1, 2, 3]);
  });
});

describe.each(SETTINGS)(
  'data-bearing PDUs, hdgst=$hdgst ddgst=$ddgst align=$align',
  ({ hdgst, ddgst, align }) => {
    const w = { hdgst, ddgst, align };
    const t = tx(hdgst, ddgst, align);
    const sqe = B.sqe({
      opcode: 0x01,
      cid: 0x1234,
      sglId: 0x01,
      sglLength: 100,
      cdw10: 5,
      cdw12: 0,
    });
    const data = pattern(100, 3);

    it('CapsuleCmd with in-capsule data', () => {
      const expected = B.capsuleCmd(sqe, data, w);
      expect(wire(P.encodeCapsuleCmd(sqe, data.length, t), data, ddgst)).toEqual(expected);
      const p = P.decodePdu(expected, rules(true, hdgst, ddgst, align));
      expect(p).toMatchObject({ type: P.PduType.CapsuleCmd, sqe, data, dataDigestOk: true });
    });

    it('CapsuleCmd without data has PDO 0', () => {
      const expected = B.capsuleCmd(sqe, undefined, w);
      const ours = P.encodeCapsuleCmd(sqe, 0, t);
      expect(ours).toEqual(expected);
      expect(ours[P.CH_PDO]).toBe(0);
      expect(P.decodePdu(expected, rules(true, hdgst, ddgst, align))).toMatchObject({
        data: undefined,
      });
    });

    it('CapsuleResp', () => {
      const f = {
        cid: 0xbeef,
        status: 0x8000 | (0x80 << 1),
        sqhd: 17,
        sqid: 3,
        dw0: 0xdeadbeef,
        dw1: 5,
      };
      const expected = B.capsuleResp(f, w);
      expect(P.encodeCapsuleResp(f, t)).toEqual(expected);
      const p = P.decodePdu(expected, rules(false, hdgst, ddgst, align));
      expect(p.type === P.PduType.CapsuleResp && p.cqe).toEqual(expected.subarray(8, 24));
    });

    it('H2CData', () => {
      const m = { cccid: 9, ttag: 0x55aa, datao: 4096, datal: data.length, last: true };
      const expected = B.h2cData({ ...m, data }, w);
      expect(wire(P.encodeH2CData(m, t), data, ddgst)).toEqual(expected);
      expect(P.decodePdu(expected, rules(true, hdgst, ddgst, align))).toEqual({
        type: P.PduType.H2CData,
        ...m,
        data,
        dataDigestOk: true,
      });
    });

    it('C2HData with SUCCESS', () => {
      const m = { cccid: 10, datao: 0, datal: data.length, last: true, success: true };
      const expected = B.c2hData({ ...m, data }, w);
      expect(wire(P.encodeC2HData(m, t), data, ddgst)).toEqual(expected);
      expect(P.decodePdu(expected, rules(false, hdgst, ddgst, align))).toEqual({
        type: P.PduType.C2HData,
        ...m,
        data,
        dataDigestOk: true,
      });
    });

    it('R2T', () => {
      const m = { cccid: 11, ttag: 2, r2to: 65536, r2tl: 1 << 20 };
      const expected = B.r2t(m, w);
      expect(P.encodeR2T(m, t)).toEqual(expected);
      expect(P.decodePdu(expected, rules(false, hdgst, ddgst, align))).toEqual({
        type: P.PduType.R2T,
        ...m,
      });
    });

    if (ddgst) {
      it('reports a data digest mismatch without throwing', () => {
        const bad = B.c2hData({ cccid: 1, datao: 0, data }, w);
        bad[bad.length - 4] ^= 1;
        expect(P.decodePdu(bad, rules(false, hdgst, ddgst, align))).toMatchObject({
          dataDigestOk: false,
        });
      });
    }
    if (hdgst) {
      it('throws FES 03h on a header digest mismatch', () => {
        const bad = B.r2t({ cccid: 1, ttag: 1, r2to: 0, r2tl: 1 }, w);
        bad[12] ^= 1;
        expect(() => P.decodePdu(bad, rules(false, hdgst, ddgst, align))).toThrow(
          expect.objectContaining({ fes: 3 }),
        );
      });
    }
  },
);

describe('golden H2CData with both digests', () => {
  it('matches the literal bytes', () => {
    const data = Buffer.from('0123456789abcdef', 'hex');
    const header = Buffer.from(
      '06' +
        '07' +
        '18' +
        '1c' +
        '28000000' +
        '0100' +
        '0200' +
        '00100000' +
        '08000000' +
        '00000000',
      'hex',
    );
    const hd = Buffer.alloc(4);
    hd.writeUInt32LE(B.crc32c(header));
    const dd = Buffer.alloc(4);
    dd.writeUInt32LE(B.crc32c(data));
    const golden = Buffer.concat([header, hd, data, dd]);
    const ours = P.encodeH2CData(
      { cccid: 1, ttag: 2, datao: 4096, datal: 8, last: true },
      tx(true, true),
    );
    expect(wire(ours, data, true)).toEqual(golden);
  });
});

describe('header rules', () => {
  const ctl = rules(true, false, false);
  const bad = (mutate: (b: Buffer) => void, base = B.capsuleCmd(B.sqe({ opcode: 0 }))) => {
    const b = Buffer.from(base);
    mutate(b);
    try {
      P.decodePdu(b, ctl);
    } catch (err) {
      expect(err).toBeInstanceOf(P.TcpTransportError);
      const e = err as P.TcpTransportError;
      return [e.fes, e.fei];
    }
    return undefined;
  };

  it('reports the lowest field in error', () => {
    expect(bad((b) => (b[0] = 0x08))).toEqual([1, 0]); // reserved type
    expect(bad((b) => (b[0] = 0x05))).toEqual([1, 0]); // wrong direction
    expect(bad((b) => (b[1] = 0x04))).toEqual([1, 1]); // LAST_PDU on a CapsuleCmd
    expect(bad((b) => (b[1] = 0x01))).toEqual([1, 1]); // HDGSTF without header digests
    expect(bad((b) => (b[2] = 24))).toEqual([1, 2]);
    expect(bad((b) => (b[3] = 8))).toEqual([1, 3]); // PDO inside the header
    expect(bad((b) => b.writeUInt32LE(70, 4))).toEqual([1, 4]);
    expect(bad((b) => (b[3] = 8), B.termReq(0x02, 1, 0))).toEqual([1, 3]);
  });

  it('marks a TermReq with an invalid PLEN as close-without-reply', () => {
    const t = B.termReq(0x02, 1, 0, Buffer.alloc(130));
    expect(() => P.decodePdu(t, ctl)).toThrow(expect.objectContaining({ sendTermReq: false }));
  });

  it('needs DDGSTF on data PDUs when data digests are on', () => {
    const noDigest = B.h2cData({ cccid: 1, ttag: 1, datao: 0, data: Buffer.alloc(8) });
    expect(() => P.decodePdu(noDigest, rules(true, false, true))).toThrow(
      expect.objectContaining({ fes: 1, fei: 1 }),
    );
  });

  it('gives each error a stable code', () => {
    expect(new P.TcpTransportError(P.TermReqFes.DataTransferOutOfRange, 0, 'x').code).toBe(
      'NVME_TCP_DATA_OUT_OF_RANGE',
    );
    expect(new P.TcpTransportError(P.TermReqFes.PduSequenceError, 0, 'x').code).toBe(
      'NVME_TCP_PDU_SEQUENCE_ERROR',
    );
  });
});
