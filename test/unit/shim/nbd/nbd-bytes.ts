/**
 * Test-only builder of NBD messages from the field layouts of proto.md, written independently of
 * src/shim/nbd's encoders (pg-protocol's testing/buffer-list.ts idea): tests compare our bytes
 * with these, so a shared bug cannot hide. Every number is big-endian, as proto.md says.
 */
export class Bytes {
  private readonly parts: Buffer[] = [];

  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }

  u16(v: number): this {
    this.parts.push(Buffer.from([(v >>> 8) & 0xff, v & 0xff]));
    return this;
  }

  u32(v: number): this {
    this.parts.push(
      Buffer.from([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]),
    );
    return this;
  }

  /** A u64 from its hex digits (up to 16), so 64-bit magics stay exact. */
  u64hex(hex: string): this {
    this.parts.push(Buffer.from(hex.padStart(16, '0'), 'hex'));
    return this;
  }

  u64(v: number): this {
    return this.u32(Math.floor(v / 2 ** 32)).u32(v % 2 ** 32);
  }

  ascii(s: string): this {
    this.parts.push(Buffer.from(s, 'latin1'));
    return this;
  }

  /** A string preceded by its u32 byte length. */
  str32(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u32(b.length).raw(b);
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  zeroes(n: number): this {
    this.parts.push(Buffer.alloc(n));
    return this;
  }

  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export const bytes = (): Bytes => new Bytes();

// Magic numbers typed in from proto.md, not imported from src.
export const NBDMAGIC = '4e42444d41474943'; // 'NBDMAGIC'
export const IHAVEOPT = '49484156454f5054'; // 'IHAVEOPT'
export const REPLY_MAGIC = '0003e889045565a9';
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** C: option request. */
export const option = (code: number, data: Buffer = Buffer.alloc(0)): Buffer =>
  bytes().u64hex(IHAVEOPT).u32(code).u32(data.length).raw(data).build();

/** S: option reply. */
export const optionReply = (code: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer =>
  bytes()
    .u64hex(REPLY_MAGIC)
    .u32(code)
    .u32(type >>> 0)
    .u32(data.length)
    .raw(data)
    .build();

/** C: transmission request header (+ data). */
export function request(
  type: number,
  handle: string,
  offset: number,
  length: number,
  flags = 0,
  data?: Buffer,
): Buffer {
  const b = bytes().u32(REQUEST_MAGIC).u16(flags).u16(type).u64hex(handle).u64(offset).u32(length);
  if (data) b.raw(data);
  return b.build();
}

/** S: simple reply (+ READ data). */
export const simpleReply = (handle: string, error: number, data?: Buffer): Buffer => {
  const b = bytes().u32(SIMPLE_REPLY_MAGIC).u32(error).u64hex(handle);
  if (data) b.raw(data);
  return b.build();
};

/** S: structured reply chunk. */
export const chunk = (flags: number, type: number, handle: string, payload: Buffer): Buffer =>
  bytes()
    .u32(STRUCTURED_REPLY_MAGIC)
    .u16(flags)
    .u16(type)
    .u64hex(handle)
    .u32(payload.length)
    .raw(payload)
    .build();
