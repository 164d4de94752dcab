/**
 * Field codec shared by the fixed-layout structures of src/nvme (Identify data, log pages, Connect
 * data). A structure is a table of `FieldSpec`s, each naming the field, its byte offset and its wire
 * kind; `encodeLayout` and `decodeLayout` walk the same table, so encode and decode cannot drift.
 *
 * Conventions (NVMe Base 2.0, 1.5 "Conventions"): all integers are little-endian. Integers up to 32
 * bits decode to `number`; 64-bit counts and LBAs decode to `number` (values above 2^53 lose
 * precision, which no real capacity or LBA reaches: an out-of-range LBA stays out of range);
 * 128-bit counters decode to `bigint`. "ASCII" strings are space padded (Identify SN/MN/FR),
 * NQNs and transport addresses are UTF-8, NUL padded.
 */

export type FieldKind =
  | 'u8'
  | 'u16'
  | 'u24'
  | 'u32'
  | 'u64'
  | 'u128'
  /** printable ASCII (0x20..0x7e), space padded, trailing spaces/NULs trimmed on decode */
  | 'ascii'
  /** UTF-8, NUL padded, cut at the first NUL on decode */
  | 'string'
  /** raw bytes, zero padded, copied on decode */
  | 'bytes';

export interface FieldSpec<K extends string = string> {
  key: K;
  offset: number;
  kind: FieldKind;
  /** Byte length for ascii, string and bytes. */
  size?: number;
}

const FIXED_SIZE: Partial<Record<FieldKind, number>> = {
  u8: 1,
  u16: 2,
  u24: 3,
  u32: 4,
  u64: 8,
  u128: 16,
};

export const fieldSize = (f: FieldSpec): number => FIXED_SIZE[f.kind] ?? f.size ?? 0;

/** Throws a RangeError unless `buf` holds `size` bytes from `offset`. */
export function need(buf: Buffer, offset: number, size: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || buf.length - offset < size) {
    throw new RangeError(
      `${what} needs ${size} bytes at offset ${offset}, the buffer has ${buf.length}`,
    );
  }
}

const U64_MASK = (1n << 64n) - 1n;

export function readU128(buf: Buffer, offset: number): bigint {
  return buf.readBigUInt64LE(offset) | (buf.readBigUInt64LE(offset + 8) << 64n);
}

export function writeU128(buf: Buffer, value: bigint, offset: number): void {
  if (value < 0n || value >> 128n !== 0n) {
    throw new RangeError(`value ${value} does not fit in 128 bits`);
  }
  buf.writeBigUInt64LE(value & U64_MASK, offset);
  buf.writeBigUInt64LE(value >> 64n, offset + 8);
}

/** Reads a u64 as a number (exact below 2^53). */
export const readU64 = (buf: Buffer, offset: number): number => Number(buf.readBigUInt64LE(offset));

const U32_RANGE = 2 ** 32;

/** Writes a non-negative safe integer (or bigint) as a u64; RangeError otherwise. */
export function writeU64(buf: Buffer, value: number | bigint, offset: number): void {
  if (typeof value === 'bigint') {
    buf.writeBigUInt64LE(value, offset);
    return;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`value ${value} is not a safe integer for a 64-bit field`);
  }
  // Two u32 halves: every SQE's SLBA goes through here, and a BigInt per call is garbage.
  buf.writeUInt32LE(value % U32_RANGE, offset);
  buf.writeUInt32LE(Math.floor(value / U32_RANGE), offset + 4);
}

/** Writes printable ASCII, space padded to `size` (Identify SN, MN, FR). */
export function writeAscii(buf: Buffer, value: string, offset: number, size: number): void {
  if (value.length > size) {
    throw new RangeError(`"${value}" is longer than the ${size}-byte field`);
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new RangeError(`"${value}" has a character that is not printable ASCII at ${i}`);
    }
  }
  buf.write(value, offset, 'latin1');
  buf.fill(0x20, offset + value.length, offset + size);
}

export function readAscii(buf: Buffer, offset: number, size: number): string {
  let end = offset + size;
  while (end > offset && (buf[end - 1] === 0x20 || buf[end - 1] === 0x00)) end--;
  return buf.toString('latin1', offset, end);
}

/** Writes UTF-8, NUL padded to `size` (NQNs, TRADDR, TRSVCID). */
export function writeNulString(buf: Buffer, value: string, offset: number, size: number): void {
  const len = Buffer.byteLength(value, 'utf8');
  if (len > size) {
    throw new RangeError(`"${value}" is ${len} bytes, longer than the ${size}-byte field`);
  }
  buf.write(value, offset, 'utf8');
  buf.fill(0, offset + len, offset + size);
}

export function readNulString(buf: Buffer, offset: number, size: number): string {
  const nul = buf.indexOf(0, offset);
  const end = nul === -1 || nul > offset + size ? offset + size : nul;
  return buf.toString('utf8', offset, end);
}

export function writeBytes(
  buf: Buffer,
  value: Uint8Array,
  offset: number,
  size: number,
  what: string,
): void {
  if (value.length > size) {
    throw new RangeError(`${what} is ${value.length} bytes, longer than the ${size}-byte field`);
  }
  buf.set(value, offset);
  buf.fill(0, offset + value.length, offset + size);
}

const INT32_MIN = -(2 ** 31);

/**
 * Bit-flag values built with JavaScript's `|` and `<<` are signed 32-bit (bit 31 makes them
 * negative); a 32-bit field takes them as the unsigned value they stand for. Anything else
 * outside 0..2^32-1 is left for writeUInt32LE to refuse.
 */
const toUint32 = (v: number): number =>
  Number.isInteger(v) && v < 0 && v >= INT32_MIN ? v >>> 0 : v;

function encodeField(f: FieldSpec, value: unknown, out: Buffer, at: number): void {
  switch (f.kind) {
    case 'u8':
      out.writeUInt8(Number(value ?? 0), at);
      return;
    case 'u16':
      out.writeUInt16LE(Number(value ?? 0), at);
      return;
    case 'u24':
      out.writeUIntLE(Number(value ?? 0), at, 3);
      return;
    case 'u32':
      out.writeUInt32LE(toUint32(Number(value ?? 0)), at);
      return;
    case 'u64':
      writeU64(out, (value as number | bigint | undefined) ?? 0, at);
      return;
    case 'u128':
      writeU128(out, BigInt((value as number | bigint | undefined) ?? 0n), at);
      return;
    case 'ascii':
      writeAscii(out, String(value ?? ''), at, f.size!);
      return;
    case 'string':
      writeNulString(out, String(value ?? ''), at, f.size!);
      return;
    case 'bytes':
      writeBytes(out, (value as Uint8Array | undefined) ?? new Uint8Array(0), at, f.size!, f.key);
      return;
  }
}

function decodeField(f: FieldSpec, buf: Buffer, at: number): unknown {
  switch (f.kind) {
    case 'u8':
      return buf[at];
    case 'u16':
      return buf.readUInt16LE(at);
    case 'u24':
      return buf.readUIntLE(at, 3);
    case 'u32':
      return buf.readUInt32LE(at);
    case 'u64':
      return readU64(buf, at);
    case 'u128':
      return readU128(buf, at);
    case 'ascii':
      return readAscii(buf, at, f.size!);
    case 'string':
      return readNulString(buf, at, f.size!);
    case 'bytes':
      return Buffer.from(buf.subarray(at, at + f.size!));
  }
}

/**
 * Encodes `fields` into `size` bytes of `out` from `offset`, zero-filling the rest (reserved
 * bytes are zero). Missing fields encode as zero / empty. RangeError on a value that does not fit.
 */
export function encodeLayout<K extends string>(
  layout: readonly FieldSpec<K>[],
  size: number,
  fields: Partial<Record<K, unknown>>,
  out: Buffer,
  offset: number,
  what: string,
): Buffer {
  need(out, offset, size, what);
  out.fill(0, offset, offset + size);
  for (const f of layout) encodeField(f, fields[f.key], out, offset + f.offset);
  return out;
}

/** Decodes every field of `layout`; RangeError when `buf` is shorter than `size` from `offset`. */
export function decodeLayout<K extends string>(
  layout: readonly FieldSpec<K>[],
  size: number,
  buf: Buffer,
  offset: number,
  what: string,
): Record<K, unknown> {
  need(buf, offset, size, what);
  const result = {} as Record<K, unknown>;
  for (const f of layout) result[f.key] = decodeField(f, buf, offset + f.offset);
  return result;
}

/** Reads bits [shift, shift+width) of a 32-bit value. */
export const bits = (value: number, shift: number, width: number): number =>
  width >= 32 ? value >>> 0 : (value >>> shift) & ((1 << width) - 1);

/** Places `field` at bits [shift, shift+width); RangeError when it does not fit. */
export function setBits(field: number, shift: number, width: number, what: string): number {
  const max = width >= 32 ? 0xffffffff : (1 << width) - 1;
  if (!Number.isInteger(field) || field < 0 || field > max) {
    throw new RangeError(`${what} ${field} does not fit in ${width} bits`);
  }
  return (field * 2 ** shift) >>> 0;
}
