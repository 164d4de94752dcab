/**
 * Log page layouts pinned to the byte offsets of the spec (NVMe Base 2.0 Figures 197-210,
 * NVMe-oF 1.1 Figures 36-38; Linux include/linux/nvme.h struct nvme_error_slot, nvme_smart_log,
 * nvmf_disc_rsp_page_hdr/_entry). Expected bytes are built by hand here, offset by offset.
 */
import { describe, expect, it } from 'vitest';
import {
  LogPageId,
  encodeGetLogPage,
  decodeGetLogPage,
  logPageLength,
  ERROR_LOG_ENTRY_SIZE,
  encodeErrorLogEntry,
  decodeErrorLogEntry,
  SMART_LOG_SIZE,
  encodeSmartHealthLog,
  decodeSmartHealthLog,
  dataUnits,
  CHANGED_NS_LIST_SIZE,
  encodeChangedNsList,
  decodeChangedNsList,
  DISCOVERY_LOG_HEADER_SIZE,
  DISCOVERY_LOG_ENTRY_SIZE,
  DISCOVERY_LOG_PAGE,
  encodeDiscoveryHeader,
  decodeDiscoveryHeader,
  encodeDiscoveryEntry,
  decodeDiscoveryEntry,
  encodeDiscoveryLog,
  tcpTsas,
  allocationMapSize,
} from '../../../src/nvme/log-pages.js';
import * as initiatorCommands from '../../../src/initiator/commands.js';

/** Test-only builder: a zeroed buffer with little-endian integers and strings placed by hand. */
function build(
  size: number,
  fields: [offset: number, width: 1 | 2 | 4 | 8 | 'str', value: number | bigint | string][],
): Buffer {
  const b = Buffer.alloc(size);
  for (const [off, width, value] of fields) {
    if (width === 'str') b.write(String(value), off, 'latin1');
    else if (width === 8) b.writeBigUInt64LE(BigInt(value), off);
    else b.writeUIntLE(Number(value), off, width);
  }
  return b;
}

/** Seeded xorshift32 for random-byte decoding. */
function randomBytes(seed: number, size: number): Buffer {
  let x = seed >>> 0 || 1;
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

describe('log page identifiers', () => {
  it('have the spec values', () => {
    expect([
      LogPageId.Error,
      LogPageId.SmartHealth,
      LogPageId.ChangedNamespaceList,
      LogPageId.Discovery,
      LogPageId.AllocationMap,
    ]).toEqual([0x01, 0x02, 0x04, 0x70, 0xc0]);
  });
});

describe('Get Log Page command', () => {
  it('places LID, RAE, NUMDL/NUMDU and LPOL/LPOU', () => {
    // 0x30000 dwords (NUMD 0x2FFFF: NUMDL 0xFFFF, NUMDU 0x2) at offset 2^32 + 8, LID 70h, RAE.
    const sqe = encodeGetLogPage({
      lid: 0x70,
      nsid: 0,
      length: 0x30000 * 4,
      offset: 2 ** 32 + 8,
      rae: true,
      cid: 0x1234,
    });
    const expected = build(64, [
      [0, 1, 0x02], // opcode Get Log Page
      [1, 1, 0x40], // PSDT = 01b (SGL)
      [2, 2, 0x1234],
      [40, 4, 0xffff8070], // NUMDL 0xFFFF | RAE | LID 70h
      [44, 4, 0x0002], // NUMDU
      [48, 4, 8], // LPOL
      [52, 4, 1], // LPOU
    ]);
    expect(sqe).toEqual(expected);
    const d = decodeGetLogPage(expected);
    expect(d).toMatchObject({
      lid: 0x70,
      rae: true,
      numd: 0x2ffff,
      offset: 2 ** 32 + 8,
      cid: 0x1234,
    });
    expect(logPageLength(d)).toBe(0x30000 * 4);
  });

  it('agrees with the initiator builder', () => {
    const a = encodeGetLogPage({ lid: 0xc0, nsid: 3, length: 512, offset: 1024 });
    const b = initiatorCommands.getLogPageCommand({
      lid: 0xc0,
      nsid: 3,
      length: 512,
      offset: 1024,
    });
    expect(a).toEqual(b);
  });

  it('rejects lengths and offsets that are not whole dwords', () => {
    expect(() => encodeGetLogPage({ lid: 1, length: 6 })).toThrow(RangeError);
    expect(() => encodeGetLogPage({ lid: 1, length: 0 })).toThrow(RangeError);
    expect(() => encodeGetLogPage({ lid: 1, length: 4, offset: 2 })).toThrow(RangeError);
  });
});

describe('Error Information entry (01h)', () => {
  it('is 64 bytes at the spec offsets', () => {
    expect(ERROR_LOG_ENTRY_SIZE).toBe(64);
    const golden = build(64, [
      [0, 8, 7], // error count
      [8, 2, 2], // sqid
      [10, 2, 0x55], // cid
      [12, 2, (0x80 << 1) | 0x8000], // status: LBA out of range, DNR
      [14, 2, 0x0128], // param location: byte 0x28, bit 1
      [16, 8, 0x123456789], // lba
      [24, 4, 1], // nsid
      [29, 1, 3], // trtype tcp
      [31, 1, 0x02], // opcode read
      [63, 1, 1], // version
    ]);
    const e = {
      errorCount: 7,
      sqid: 2,
      cid: 0x55,
      status: (0x80 << 1) | 0x8000,
      paramLocation: 0x0128,
      lba: 0x123456789,
      nsid: 1,
      vs: 0,
      trtype: 3,
      csi: 0,
      opcode: 2,
      commandSpecific: 0,
      trtypeSpecific: 0,
      version: 1,
    };
    expect(encodeErrorLogEntry(e)).toEqual(golden);
    expect(decodeErrorLogEntry(golden)).toEqual(e);
  });
});

describe('SMART / Health log (02h)', () => {
  it('is 512 bytes at the spec offsets, 128-bit counters as bigint', () => {
    expect(SMART_LOG_SIZE).toBe(512);
    const golden = build(512, [
      [1, 2, 300], // composite temperature, K
      [3, 1, 100], // available spare
      [4, 1, 10], // threshold
      [32, 8, 5n], // data units read (low half)
      [48, 8, 6n],
      [64, 8, 70n],
      [80, 8, 80n],
      [112, 8, 1n], // power cycles
      [176, 8, 2n], // error log entries
    ]);
    golden.writeBigUInt64LE(1n, 40); // data units read high half: 2^64 + 5
    const s = decodeSmartHealthLog(golden);
    expect(s).toMatchObject({
      compositeTemperature: 300,
      availableSpare: 100,
      availableSpareThreshold: 10,
      dataUnitsRead: (1n << 64n) + 5n,
      dataUnitsWritten: 6n,
      hostReadCommands: 70n,
      hostWriteCommands: 80n,
      powerCycles: 1n,
      errorLogEntries: 2n,
    });
    expect(encodeSmartHealthLog(s)).toEqual(golden);
  });

  it('counts data units in thousands of 512-byte units, rounded up', () => {
    expect(dataUnits(0)).toBe(0n);
    expect(dataUnits(1)).toBe(1n);
    expect(dataUnits(512_000)).toBe(1n);
    expect(dataUnits(512_001)).toBe(2n);
  });
});

describe('Changed Namespace List (04h)', () => {
  it('is 1024 sorted NSIDs, zero terminated, in 4096 bytes', () => {
    expect(CHANGED_NS_LIST_SIZE).toBe(4096);
    const golden = build(4096, [
      [0, 4, 1],
      [4, 4, 3],
      [8, 4, 9],
    ]);
    expect(encodeChangedNsList([9, 1, 3])).toEqual(golden);
    expect(decodeChangedNsList(golden)).toEqual([1, 3, 9]);
  });

  it('marks more than 1024 changes with FFFFFFFFh', () => {
    const many = Array.from({ length: 1025 }, (_, i) => i + 1);
    const golden = build(4096, [[0, 4, 0xffffffff]]);
    expect(encodeChangedNsList(many)).toEqual(golden);
    expect(decodeChangedNsList(golden)).toEqual([0xffffffff]);
  });
});

describe('Discovery log (70h)', () => {
  const entry = {
    trtype: 3,
    adrfam: 1,
    subtype: 2,
    treq: 2,
    portid: 1,
    cntlid: 0xffff,
    asqsz: 32,
    eflags: 0,
    trsvcid: '4420',
    traddr: '127.0.0.1',
    subnqn: 'nqn.2024-01.io.example:vol0',
    tsas: tcpTsas(0),
  };

  /** An entry as SPDK nvmf_tcp_discover formats it: TRSVCID/TRADDR space padded, SUBNQN NUL padded. */
  function goldenEntry(): Buffer {
    const b = build(1024, [
      [0, 1, 3],
      [1, 1, 1],
      [2, 1, 2],
      [3, 1, 2],
      [4, 2, 1],
      [6, 2, 0xffff],
      [8, 2, 32],
      [512, 'str', 'nqn.2024-01.io.example:vol0'],
    ]);
    b.fill(0x20, 32, 64);
    b.write('4420', 32, 'latin1');
    b.fill(0x20, 256, 512);
    b.write('127.0.0.1', 256, 'latin1');
    return b;
  }

  it('header is 1024 bytes: GENCTR u64 @0, NUMREC u64 @8, RECFMT u16 @16', () => {
    expect(DISCOVERY_LOG_HEADER_SIZE).toBe(1024);
    expect(DISCOVERY_LOG_PAGE).toBe(0x70);
    const golden = build(1024, [
      [0, 8, 0x1_0000_0002n],
      [8, 8, 3n],
    ]);
    expect(encodeDiscoveryHeader({ genctr: 0x1_0000_0002n, numrec: 3 })).toEqual(golden);
    expect(decodeDiscoveryHeader(golden)).toEqual({ genctr: 0x1_0000_0002n, numrec: 3, recfmt: 0 });
  });

  it('entry is 1024 bytes at the spec offsets', () => {
    expect(DISCOVERY_LOG_ENTRY_SIZE).toBe(1024);
    const golden = goldenEntry();
    expect(encodeDiscoveryEntry(entry)).toEqual(golden);
    expect(decodeDiscoveryEntry(golden)).toEqual(entry);
  });

  it('decodes NUL-padded TRADDR/TRSVCID as Linux nvmet writes them', () => {
    const b = goldenEntry();
    b.fill(0, 32, 64).write('8009', 32, 'latin1');
    b.fill(0, 256, 512).write('10.0.0.1', 256, 'latin1');
    b[768] = 1; // SECTYPE TLS 1.2
    const d = decodeDiscoveryEntry(b);
    expect([d.trsvcid, d.traddr, d.tsas[0]]).toEqual(['8009', '10.0.0.1', 1]);
  });

  it('a whole log decodes entry by entry, through the initiator re-exports', () => {
    const log = encodeDiscoveryLog(5n, [
      entry,
      { ...entry, subnqn: 'nqn.2024-01.io.example:vol1' },
    ]);
    expect(log.length).toBe(1024 * 3);
    const h = initiatorCommands.decodeDiscoveryHeader(log);
    expect(h.numrec).toBe(2);
    expect(h.genctr).toBe(5n);
    const second = initiatorCommands.decodeDiscoveryEntry(log, 2048);
    expect(second.subnqn).toBe('nqn.2024-01.io.example:vol1');
    expect(initiatorCommands.DISCOVERY_LOG_ENTRY_SIZE).toBe(1024);
  });

  it('decodes a log delivered in two pieces split at every byte boundary', () => {
    const log = encodeDiscoveryLog(9n, [entry]);
    for (let cut = 0; cut <= log.length; cut++) {
      const joined = Buffer.concat([log.subarray(0, cut), log.subarray(cut)]);
      expect(decodeDiscoveryEntry(joined, 1024).subnqn).toBe(entry.subnqn);
    }
  });

  it('decodes seeded random bytes without throwing', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const raw = randomBytes(seed, 4096);
      expect(typeof decodeDiscoveryHeader(raw).genctr).toBe('bigint');
      expect(decodeDiscoveryEntry(raw).tsas.length).toBe(256);
      expect(typeof decodeErrorLogEntry(raw).errorCount).toBe('number');
      expect(typeof decodeSmartHealthLog(raw).dataUnitsRead).toBe('bigint');
      expect(decodeChangedNsList(raw).length).toBeLessThanOrEqual(1024);
      expect(decodeGetLogPage(raw.subarray(0, 64)).numd).toBeLessThan(2 ** 32);
    }
  });

  it('rejects short buffers with RangeError', () => {
    expect(() => decodeDiscoveryEntry(Buffer.alloc(1023))).toThrow(RangeError);
    expect(() => decodeDiscoveryHeader(Buffer.alloc(16))).toThrow(RangeError);
  });
});

describe('allocation map (C0h)', () => {
  it('is one bit per LBA, rounded up to a dword', () => {
    expect(allocationMapSize(1)).toBe(4);
    expect(allocationMapSize(32)).toBe(4);
    expect(allocationMapSize(33)).toBe(8);
    expect(allocationMapSize(16384)).toBe(2048);
  });
});
