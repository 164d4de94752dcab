/**
 * NVMe/TCP digests (NVMe/TCP 1.0 HDGST/DDGST, enabled per connection by the ICReq/ICResp DGST field): CRC32C (Castagnoli)
 * over the PDU header (HDGST, 4 bytes right after HLEN) and over the PDU data (DDGST, 4 bytes
 * right after the data, padding excluded). Stored little-endian. The CRC comes from
 * @node-rs/crc32, which uses the SSE4.2 / ARMv8 CRC32C instructions where the CPU has them.
 */
import { crc32c } from '@node-rs/crc32';

/** Size of either digest on the wire. */
export const DIGEST_SIZE = 4;

/** CRC32C of the first `hlen` bytes of `pdu` (the header digest). */
export const headerDigest = (pdu: Buffer, hlen: number): number => crc32c(pdu.subarray(0, hlen));

/** True when the 4 bytes after the header hold its CRC32C. */
export const headerDigestOk = (pdu: Buffer, hlen: number): boolean =>
  pdu.length >= hlen + DIGEST_SIZE && pdu.readUInt32LE(hlen) === headerDigest(pdu, hlen);

/** CRC32C of the data section, which may be gathered from several buffers. */
export function dataDigest(data: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(data)) return crc32c(data);
  let crc = 0;
  for (const part of data) crc = crc32c(part, crc);
  return crc;
}

/** A 4-byte little-endian digest, ready to write after the header or the data. */
export function digestBytes(value: number): Buffer {
  const b = Buffer.allocUnsafe(DIGEST_SIZE);
  b.writeUInt32LE(value >>> 0, 0);
  return b;
}
