/**
 * Test-only builder for the golden bytes of the NVMe structures. It knows nothing of src/nvme: a
 * test lists each field as [offset, kind, value] with the offset written as a literal taken from
 * the spec figure (cross-checked with Linux include/linux/nvme.h and SPDK nvme_spec.h), and the
 * builder lays the bytes down with plain little-endian Buffer writes. An encoder is then compared
 * with these bytes, and a decoder is fed them, so a wrong offset constant cannot hide behind a
 * decoder that shares it.
 */
export type SpecKind = 'u8' | 'u16' | 'u24' | 'u32' | 'u64' | 'u128' | 'ascii' | 'nul' | 'bytes';

/** [byte offset from the spec, kind, value, byte size for ascii/nul/bytes]. */
export type SpecField = readonly [number, SpecKind, number | bigint | string | Buffer, number?];

export function buildStruct(size: number, fields: readonly SpecField[]): Buffer {
  const b = Buffer.alloc(size);
  for (const [offset, kind, value, width] of fields) {
    switch (kind) {
      case 'u8':
        b[offset] = Number(value);
        break;
      case 'u16':
        b[offset] = Number(value) & 0xff;
        b[offset + 1] = (Number(value) >>> 8) & 0xff;
        break;
      case 'u24':
        for (let i = 0; i < 3; i++) b[offset + i] = (Number(value) >>> (8 * i)) & 0xff;
        break;
      case 'u32':
        for (let i = 0; i < 4; i++) b[offset + i] = (Number(value) >>> (8 * i)) & 0xff;
        break;
      case 'u64':
      case 'u128': {
        let v = BigInt(value as number | bigint);
        for (let i = 0; i < (kind === 'u64' ? 8 : 16); i++) {
          b[offset + i] = Number(v & 0xffn);
          v >>= 8n;
        }
        break;
      }
      case 'ascii':
        b.fill(0x20, offset, offset + width!);
        b.write(String(value), offset, 'latin1');
        break;
      case 'nul':
        b.write(String(value), offset, 'utf8');
        break;
      case 'bytes':
        (value as Buffer).copy(b, offset);
        break;
    }
  }
  return b;
}

/** Bytes from a hex string with any spacing: hex('7f 00 01 00'). */
export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Distinct non-zero bytes for identifier fields, so a swapped field shows. */
export const seq = (length: number, start: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => (start + i) & 0xff));
