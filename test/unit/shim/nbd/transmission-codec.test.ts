import { describe, expect, it } from 'vitest';
import {
  commandName,
  decodeBlockStatus,
  decodeChunkHeader,
  decodeErrorChunk,
  decodeOffsetData,
  decodeOffsetHole,
  decodeRequestHeader,
  decodeSimpleReply,
  encodeBlockStatusChunk,
  encodeErrorChunk,
  encodeNoneChunk,
  encodeOffsetDataHeader,
  encodeRequestHeader,
  encodeSimpleReply,
} from '../../../../src/shim/nbd/transmission-codec.js';
import { bytes, chunk, request, simpleReply } from './nbd-bytes.js';

const hex = (b: Buffer) => b.toString('hex');
const HANDLE = '0102030405060708';
const handleBuf = Buffer.from(HANDLE, 'hex');

describe('request (proto.md "Request message")', () => {
  it('is magic, flags, type, handle, offset u64, length', () => {
    const want = request(1, HANDLE, 2 ** 40 + 4096, 65536, 0x0001);
    expect(want.length).toBe(28);
    const enc = encodeRequestHeader({
      flags: 1,
      type: 1,
      handle: 0x0102030405060708n,
      offset: 2 ** 40 + 4096,
      length: 65536,
    });
    expect(hex(enc)).toBe(hex(want));
    const dec = decodeRequestHeader(want);
    expect({ ...dec, handle: hex(dec.handle) }).toEqual({
      flags: 1,
      type: 1,
      handle: HANDLE,
      offset: 2 ** 40 + 4096,
      length: 65536,
    });
  });

  it('decodes an offset past 2^53 as an unsafe integer, which validation refuses', () => {
    const dec = decodeRequestHeader(
      bytes()
        .u32(0x25609513)
        .u16(0)
        .u16(0)
        .u64hex(HANDLE)
        .u64hex('ffffffffffffffff')
        .u32(512)
        .build(),
    );
    expect(Number.isSafeInteger(dec.offset)).toBe(false);
  });

  it('names commands', () => {
    expect(commandName(6)).toBe('WRITE_ZEROES');
    expect(commandName(42)).toBe('command 42');
  });
});

describe('simple reply (proto.md "Simple reply message")', () => {
  it('is magic 0x67446698, error, handle', () => {
    expect(hex(encodeSimpleReply(handleBuf, 22))).toBe(hex(simpleReply(HANDLE, 22)));
    expect(hex(encodeSimpleReply(0x0102030405060708n, 0))).toBe(hex(simpleReply(HANDLE, 0)));
    expect(decodeSimpleReply(simpleReply(HANDLE, 5))).toEqual({
      error: 5,
      handle: 0x0102030405060708n,
    });
  });
});

describe('structured reply chunks (proto.md "Structured reply types")', () => {
  it('NBD_REPLY_TYPE_NONE: DONE flag, type 0, no payload', () => {
    expect(hex(encodeNoneChunk(handleBuf))).toBe(hex(chunk(1, 0, HANDLE, Buffer.alloc(0))));
  });

  it('NBD_REPLY_TYPE_OFFSET_DATA: header + offset, the data following as its own buffer', () => {
    const data = Buffer.from('payload!');
    const whole = chunk(1, 1, HANDLE, bytes().u64(8192).raw(data).build());
    const head = encodeOffsetDataHeader(handleBuf, 1, 8192, data.length);
    expect(head.length).toBe(28);
    expect(hex(Buffer.concat([head, data]))).toBe(hex(whole));
    expect(decodeChunkHeader(whole)).toEqual({
      flags: 1,
      type: 1,
      handle: 0x0102030405060708n,
      length: 16,
    });
    const d = decodeOffsetData(whole.subarray(20));
    expect(d.offset).toBe(8192);
    expect(d.data.toString()).toBe('payload!');
  });

  it('NBD_REPLY_TYPE_ERROR: error, message length u16, message', () => {
    const want = chunk(1, 0x8001, HANDLE, bytes().u32(5).u16(4).ascii('oops').build());
    expect(hex(encodeErrorChunk(handleBuf, 5, 'oops'))).toBe(hex(want));
    expect(decodeErrorChunk(0x8001, want.subarray(20))).toEqual({ errno: 5, message: 'oops' });
  });

  it('limits an error message to the 4096-byte string limit', () => {
    const enc = encodeErrorChunk(handleBuf, 5, 'x'.repeat(5000));
    expect(enc.readUInt16BE(24)).toBe(4096);
    expect(enc.length).toBe(20 + 6 + 4096);
  });

  it('NBD_REPLY_TYPE_ERROR_OFFSET carries the offset after the message', () => {
    const payload = bytes().u32(5).u16(2).ascii('hi').u64(1024).build();
    expect(decodeErrorChunk(0x8002, payload)).toEqual({ errno: 5, message: 'hi', offset: 1024 });
    expect(() => decodeErrorChunk(0x8002, payload.subarray(0, 10))).toThrow(/ERROR_OFFSET/);
  });

  it('NBD_REPLY_TYPE_BLOCK_STATUS: context id, then (length, flags) descriptors', () => {
    const want = chunk(1, 5, HANDLE, bytes().u32(1).u32(4096).u32(3).u32(8192).u32(0).build());
    const descriptors = [
      { length: 4096, flags: 3 },
      { length: 8192, flags: 0 },
    ];
    expect(hex(encodeBlockStatusChunk(handleBuf, 1, descriptors))).toBe(hex(want));
    expect(decodeBlockStatus(want.subarray(20))).toEqual({ contextId: 1, descriptors });
    expect(() => decodeBlockStatus(bytes().u32(1).build())).toThrow(/BLOCK_STATUS/);
    expect(() => decodeBlockStatus(bytes().u32(1).u32(2).build())).toThrow(/BLOCK_STATUS/);
  });

  it('NBD_REPLY_TYPE_OFFSET_HOLE: offset and a nonzero hole size', () => {
    expect(decodeOffsetHole(bytes().u64(512).u32(1024).build())).toEqual({
      offset: 512,
      length: 1024,
    });
    expect(() => decodeOffsetHole(bytes().u64(512).u32(0).build())).toThrow(/zero hole/);
    expect(() => decodeOffsetData(bytes().u64(512).build())).toThrow(/OFFSET_DATA/);
  });
});
