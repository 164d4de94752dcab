/**
 * SGL descriptors, 16 bytes (NVMe Base 2.0, 4.1.2 / Figures 116-119) and the forms NVMe/TCP uses
 * (NVMe/TCP Transport 1.0, 3.3.1): in-capsule data is a Data Block descriptor with the Offset
 * subtype; data moved by R2T/H2CData or C2HData is a Transport SGL Data Block, subtype 0xA.
 */
export const SGL_DESCRIPTOR_SIZE = 16;

export const SGL_ADDRESS = 0; // u64 address or offset
export const SGL_LENGTH = 8; // u32 length (Keyed: u24 length at 8, u32 key at 11)
export const SGL_KEY = 11; // u32 key (Keyed SGL Data Block, RDMA)
export const SGL_IDENTIFIER = 15; // u8 type bits 7:4, subtype bits 3:0

export const enum SglType {
  DataBlock = 0x0,
  BitBucket = 0x1,
  Segment = 0x2,
  LastSegment = 0x3,
  KeyedDataBlock = 0x4,
  TransportDataBlock = 0x5,
}

export const enum SglSubtype {
  Address = 0x0,
  Offset = 0x1,
  /** NVMe/TCP: "transport specific" subtype used with TransportDataBlock. */
  Transport = 0xa,
}

export interface SglDescriptor {
  type: number;
  subtype: number;
  address: bigint;
  length: number;
  /** Keyed SGL only. */
  key?: number;
}

export function decodeSgl(buf: Buffer, offset = 0): SglDescriptor {
  const id = buf[offset + SGL_IDENTIFIER];
  const type = id >>> 4;
  const sgl: SglDescriptor = {
    type,
    subtype: id & 0xf,
    address: buf.readBigUInt64LE(offset + SGL_ADDRESS),
    length:
      type === SglType.KeyedDataBlock
        ? buf.readUIntLE(offset + SGL_LENGTH, 3)
        : buf.readUInt32LE(offset + SGL_LENGTH),
  };
  if (type === SglType.KeyedDataBlock) sgl.key = buf.readUInt32LE(offset + SGL_KEY);
  return sgl;
}

export function encodeSgl(
  sgl: SglDescriptor,
  out: Buffer = Buffer.alloc(SGL_DESCRIPTOR_SIZE),
  offset = 0,
): Buffer {
  out.fill(0, offset, offset + SGL_DESCRIPTOR_SIZE);
  out.writeBigUInt64LE(sgl.address, offset + SGL_ADDRESS);
  if (sgl.type === SglType.KeyedDataBlock) {
    out.writeUIntLE(sgl.length, offset + SGL_LENGTH, 3);
    out.writeUInt32LE(sgl.key ?? 0, offset + SGL_KEY);
  } else {
    out.writeUInt32LE(sgl.length >>> 0, offset + SGL_LENGTH);
  }
  out[offset + SGL_IDENTIFIER] = ((sgl.type & 0xf) << 4) | (sgl.subtype & 0xf);
  return out;
}

/** The descriptor an NVMe/TCP host puts in SGL1 for `length` bytes of in-capsule data. */
export const inCapsuleSgl = (length: number): SglDescriptor => ({
  type: SglType.DataBlock,
  subtype: SglSubtype.Offset,
  address: 0n,
  length,
});

/** The descriptor an NVMe/TCP host puts in SGL1 for data moved by R2T/H2CData or C2HData. */
export const transportSgl = (length: number): SglDescriptor => ({
  type: SglType.TransportDataBlock,
  subtype: SglSubtype.Transport,
  address: 0n,
  length,
});
