/**
 * fio's verify format (fio 3.33 verify.h, verify.c), byte for byte, so a block written by
 * `fio --verify=crc32c|md5` verifies here and the messages read like fio's:
 *
 *   struct verify_header {          offset
 *     uint16_t magic;               0   0xacca
 *     uint16_t verify_type;         2   VERIFY_MD5 = 2, VERIFY_CRC32C = 5
 *     uint32_t len;                 4   bytes covered by this header (the I/O length)
 *     uint64_t rand_seed;           8
 *     uint64_t offset;              16  byte offset of the block on the device
 *     uint32_t time_sec, time_nsec; 24, 28
 *     uint16_t thread, numberio;    32, 34
 *     uint32_t crc32;               36  fio_crc32c of bytes 0..35
 *   };                              40 bytes, then vhdr_crc32 {crc32} or vhdr_md5 {digest[16]}
 *
 * The checksum covers the rest of the block after that. fio's crc32c (crc/crc32c-intel.c,
 * crc32c_sw) starts from ~0 and has no final inversion: it is the bitwise NOT of standard CRC32C.
 * verify=pattern writes and checks only the pattern, with no header (what fio 3.33 writes).
 * All fields are little-endian (x86 fio writes host order).
 */
import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import type { VerifyKind } from '../options/job-spec.js';

export const FIO_HDR_MAGIC = 0xacca;
/** fio verify.h enum values. */
export const VERIFY_TYPE_MD5 = 2;
export const VERIFY_TYPE_CRC32C = 5;

export const HDR_MAGIC = 0;
export const HDR_VERIFY_TYPE = 2;
export const HDR_LEN = 4;
export const HDR_RAND_SEED = 8;
export const HDR_OFFSET = 16;
export const HDR_TIME_SEC = 24;
export const HDR_TIME_NSEC = 28;
export const HDR_THREAD = 32;
export const HDR_NUMBERIO = 34;
export const HDR_CRC32 = 36;
export const VERIFY_HEADER_BYTES = 40;
export const CRC32C_VHDR_BYTES = 4;
export const MD5_VHDR_BYTES = 16;

const U32 = 0x100000000;
const U16_MASK = 0xffff;
const NSEC_PER_MSEC = 1_000_000;
const MSEC_PER_SEC = 1000;

/** fio_crc32c(): CRC32C without the final XOR. */
export function fioCrc32c(data: Buffer): number {
  return ~crc32c(data) >>> 0;
}

export function verifyType(kind: VerifyKind): number {
  return kind === 'md5' ? VERIFY_TYPE_MD5 : VERIFY_TYPE_CRC32C;
}

/** Header plus checksum header: where the checksummed data starts. */
export function verifyHeaderSize(kind: VerifyKind): number {
  if (kind === 'pattern') return 0;
  return VERIFY_HEADER_BYTES + (kind === 'md5' ? MD5_VHDR_BYTES : CRC32C_VHDR_BYTES);
}

export interface VerifyStamp {
  offset: number;
  seedLo: number;
  seedHi: number;
  /** fio thread number (job number). */
  thread: number;
  /** Write count of the job, mod 2^16. */
  numberio: number;
}

/** Fills `pattern` repeatedly from `start` to the end of `buf`, phase `start % pattern.length`. */
export function fillPattern(buf: Buffer, pattern: Buffer, start = 0): void {
  for (let i = start; i < buf.length; i++) buf[i] = pattern[i % pattern.length];
}

/** Writes the verify header and checksum into a block whose data area is already filled. */
export function stampVerifyBlock(block: Buffer, kind: VerifyKind, s: VerifyStamp): void {
  if (kind === 'pattern') return;
  const nowMs = Date.now();
  block.writeUInt16LE(FIO_HDR_MAGIC, HDR_MAGIC);
  block.writeUInt16LE(verifyType(kind), HDR_VERIFY_TYPE);
  block.writeUInt32LE(block.length, HDR_LEN);
  block.writeUInt32LE(s.seedLo, HDR_RAND_SEED);
  block.writeUInt32LE(s.seedHi, HDR_RAND_SEED + 4);
  block.writeUInt32LE(s.offset % U32, HDR_OFFSET);
  block.writeUInt32LE(Math.floor(s.offset / U32), HDR_OFFSET + 4);
  block.writeUInt32LE(Math.floor(nowMs / MSEC_PER_SEC), HDR_TIME_SEC);
  block.writeUInt32LE((nowMs % MSEC_PER_SEC) * NSEC_PER_MSEC, HDR_TIME_NSEC);
  block.writeUInt16LE(s.thread & U16_MASK, HDR_THREAD);
  block.writeUInt16LE(s.numberio & U16_MASK, HDR_NUMBERIO);
  block.writeUInt32LE(fioCrc32c(block.subarray(0, HDR_CRC32)), HDR_CRC32);
  const data = block.subarray(verifyHeaderSize(kind));
  if (kind === 'md5') {
    createHash('md5').update(data).digest().copy(block, VERIFY_HEADER_BYTES);
  } else {
    block.writeUInt32LE(fioCrc32c(data), VERIFY_HEADER_BYTES);
  }
}

export interface VerifyExpectation {
  kind: VerifyKind;
  offset: number;
  /** Seeds are checked when known (the write phase of this run, or a verify_only replay). */
  seedLo?: number;
  seedHi?: number;
  pattern?: Buffer;
  /** The name fio prints after "at file". */
  file: string;
}

const hex = (b: Buffer): string => b.toString('hex');
const bitsSet = (x: number): number => {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
};

/** Checks a block read back; returns fio's error text (one or more lines) or undefined when good. */
export function checkVerifyBlock(block: Buffer, e: VerifyExpectation): string | undefined {
  const len = block.length;
  const where = ` at file ${e.file} offset ${e.offset}, length ${len} (requested block: offset=${e.offset}, length=${len})`;
  if (e.kind === 'pattern') return checkPattern(block, e.pattern!, 0, where);
  const magic = block.readUInt16LE(HDR_MAGIC);
  if (magic !== FIO_HDR_MAGIC) {
    return `verify: bad magic header ${magic.toString(16)}, wanted ${FIO_HDR_MAGIC.toString(16)}${where}`;
  }
  const hdrLen = block.readUInt32LE(HDR_LEN);
  if (hdrLen !== len) return `verify: bad header length ${hdrLen}, wanted ${len}${where}`;
  const seedLo = block.readUInt32LE(HDR_RAND_SEED);
  const seedHi = block.readUInt32LE(HDR_RAND_SEED + 4);
  if (e.seedLo !== undefined && (seedLo !== e.seedLo || seedHi !== e.seedHi)) {
    const got = BigInt(seedHi) * BigInt(U32) + BigInt(seedLo);
    const want = BigInt(e.seedHi ?? 0) * BigInt(U32) + BigInt(e.seedLo);
    return `verify: bad header rand_seed ${got}, wanted ${want}${where}`;
  }
  const offset = block.readUInt32LE(HDR_OFFSET + 4) * U32 + block.readUInt32LE(HDR_OFFSET);
  if (offset !== e.offset) return `verify: bad header offset ${offset}, wanted ${e.offset}${where}`;
  const stored = block.readUInt32LE(HDR_CRC32);
  const computed = fioCrc32c(block.subarray(0, HDR_CRC32));
  if (stored !== computed) {
    return `verify: bad header crc ${stored.toString(16)}, calculated ${computed.toString(16)}${where}`;
  }
  const type = block.readUInt16LE(HDR_VERIFY_TYPE);
  if (type !== verifyType(e.kind)) {
    return `fio: verify type mismatch (${type} media, ${verifyType(e.kind)} given)${where}`;
  }
  const data = block.subarray(verifyHeaderSize(e.kind));
  const expected =
    e.kind === 'md5'
      ? block.subarray(VERIFY_HEADER_BYTES, VERIFY_HEADER_BYTES + MD5_VHDR_BYTES)
      : block.subarray(VERIFY_HEADER_BYTES, VERIFY_HEADER_BYTES + CRC32C_VHDR_BYTES);
  let received: Buffer;
  if (e.kind === 'md5') {
    received = createHash('md5').update(data).digest();
  } else {
    received = Buffer.alloc(CRC32C_VHDR_BYTES);
    received.writeUInt32LE(fioCrc32c(data));
  }
  if (!received.equals(expected)) {
    return (
      `${e.kind}: verify failed${where.replace(/^ at/, ' at')}\n` +
      `       Expected CRC: ${hex(expected)}\n` +
      `       Received CRC: ${hex(received)}`
    );
  }
  return undefined;
}

function checkPattern(
  block: Buffer,
  pattern: Buffer,
  start: number,
  where: string,
): string | undefined {
  for (let i = start; i < block.length; i++) {
    const want = pattern[i % pattern.length];
    if (block[i] !== want) {
      const got = block[i];
      return (
        `fio: got pattern '${got.toString(16).padStart(2, '0')}', wanted '${want.toString(16).padStart(2, '0')}'. Bad bits ${bitsSet(got ^ want)}\n` +
        `fio: bad pattern block offset ${i}\n` +
        `pattern: verify failed${where}`
      );
    }
  }
  return undefined;
}
