import { describe, expect, it } from 'vitest';
import {
  SGL_DESCRIPTOR_SIZE,
  SGL_ADDRESS,
  SGL_LENGTH,
  SGL_KEY,
  SGL_IDENTIFIER,
  SglType,
  SglSubtype,
  decodeSgl,
  encodeSgl,
  inCapsuleSgl,
  transportSgl,
} from '../../../src/nvme/sgl.js';
import { buildStruct, hex } from './support/spec-struct.js';

// NVMe Base 2.0 4.1.2, Figures 116-119; Linux struct nvme_sgl_desc / nvme_keyed_sgl_desc.
describe('SGL descriptors (16 bytes)', () => {
  it('has the spec offsets and type codes', () => {
    expect(SGL_DESCRIPTOR_SIZE).toBe(16);
    expect([SGL_ADDRESS, SGL_LENGTH, SGL_KEY, SGL_IDENTIFIER]).toEqual([0, 8, 11, 15]);
    expect([
      SglType.DataBlock,
      SglType.BitBucket,
      SglType.Segment,
      SglType.LastSegment,
      SglType.KeyedDataBlock,
      SglType.TransportDataBlock,
    ]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([SglSubtype.Address, SglSubtype.Offset, SglSubtype.Transport]).toEqual([0, 1, 0xa]);
  });

  it('writes the NVMe/TCP in-capsule descriptor: Data Block, Offset subtype (identifier 01h)', () => {
    // NVMe/TCP 1.0, 3.3.1: in-capsule data at offset 0 of the capsule's data part.
    expect(encodeSgl(inCapsuleSgl(1024))).toEqual(hex('0000000000000000 00040000 000000 01'));
  });

  it('writes the NVMe/TCP transport descriptor: Transport Data Block, subtype Ah (5Ah)', () => {
    expect(encodeSgl(transportSgl(0x100000))).toEqual(hex('0000000000000000 00001000 000000 5a'));
  });

  it('encodes and decodes a Keyed Data Block: 24-bit length, 32-bit key', () => {
    const golden = buildStruct(16, [
      [0, 'u64', 0x1000200030004000n],
      [8, 'u24', 0x123456],
      [11, 'u32', 0xcafef00d],
      [15, 'u8', 0x40],
    ]);
    const sgl = {
      type: SglType.KeyedDataBlock,
      subtype: 0,
      address: 0x1000200030004000n,
      length: 0x123456,
      key: 0xcafef00d,
    };
    expect(encodeSgl(sgl).equals(golden)).toBe(true);
    expect(decodeSgl(golden)).toEqual(sgl);
  });

  it('decodes a Data Block with a 32-bit length and no key', () => {
    const golden = buildStruct(16, [
      [0, 'u64', 7n],
      [8, 'u32', 0xfffffff0],
      [15, 'u8', 0x01],
    ]);
    expect(decodeSgl(golden)).toEqual({ type: 0, subtype: 1, address: 7n, length: 0xfffffff0 });
  });
});
