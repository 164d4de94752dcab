import { describe, expect, it } from 'vitest';
import {
  DISCOVERY_NQN,
  NQN_MAX_BYTES,
  validateNqn,
  assertNqn,
  isUuidNqn,
  uuidOfNqn,
  makeHostNqn,
} from '../../../src/nvme/nqn.js';
import {
  readAscii,
  writeAscii,
  readNulString,
  writeNulString,
  readU128,
  writeU128,
  writeU64,
  bits,
  setBits,
} from '../../../src/nvme/codec.js';

// NVMe Base 2.0, 4.5.
describe('NQN validation', () => {
  it('accepts the two forms and the discovery NQN', () => {
    expect(validateNqn('nqn.2024-01.io.example:disk1')).toBeNull();
    expect(
      validateNqn('nqn.2014-08.org.nvmexpress:uuid:01234567-89ab-cdef-0123-456789abcdef'),
    ).toBeNull();
    expect(validateNqn(DISCOVERY_NQN)).toBeNull();
    expect(validateNqn('nqn.2016-06.io.spdk:cnode1')).toBeNull();
  });

  it('says what is wrong in one sentence', () => {
    expect(validateNqn('')).toMatch(/non-empty/);
    expect(validateNqn('iqn.2024-01.io.example')).toMatch(/not of the form/);
    expect(validateNqn('nqn.2024-13.io.example')).toMatch(/month 13/);
    expect(validateNqn('nqn.2024-01.io.example:')).toMatch(/ends in ':'/);
    expect(validateNqn('nqn.2014-08.org.nvmexpress:uuid:nope')).toMatch(/UUID/);
    expect(validateNqn(`nqn.2024-01.io.example:${'x'.repeat(NQN_MAX_BYTES)}`)).toMatch(/223 bytes/);
    expect(() => assertNqn('bad', 'subsystem')).toThrow(/^subsystem: /);
  });

  it('makes and reads UUID host NQNs', () => {
    const nqn = makeHostNqn('0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0');
    expect(nqn).toBe('nqn.2014-08.org.nvmexpress:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
    expect(isUuidNqn(nqn)).toBe(true);
    expect(uuidOfNqn(nqn)).toBe('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
    expect(uuidOfNqn('nqn.2024-01.io.example:x')).toBeUndefined();
    expect(isUuidNqn(makeHostNqn())).toBe(true);
  });
});

describe('field codec', () => {
  it('pads ASCII with spaces and NUL strings with zeroes, trimming on read', () => {
    const b = Buffer.alloc(8, 0xff);
    writeAscii(b, 'ab', 0, 8);
    expect(b).toEqual(Buffer.from('ab      '));
    expect(readAscii(b, 0, 8)).toBe('ab');
    writeNulString(b, 'xyz', 0, 8);
    expect(b).toEqual(Buffer.from('xyz\0\0\0\0\0', 'latin1'));
    expect(readNulString(b, 0, 8)).toBe('xyz');
    expect(readNulString(Buffer.from('abcdefgh\0'), 0, 4)).toBe('abcd');
  });

  it('reads and writes 128-bit little-endian values', () => {
    const b = Buffer.alloc(16);
    writeU128(b, (1n << 127n) | 0x0102n, 0);
    expect(b[0]).toBe(0x02);
    expect(b[1]).toBe(0x01);
    expect(b[15]).toBe(0x80);
    expect(readU128(b, 0)).toBe((1n << 127n) | 0x0102n);
    expect(() => writeU128(b, 1n << 128n, 0)).toThrow(RangeError);
    expect(() => writeU64(b, 2 ** 53, 0)).toThrow(RangeError);
  });

  it('extracts and places bit fields', () => {
    expect(bits(0xabcd1234, 16, 16)).toBe(0xabcd);
    expect(bits(0x80000000, 0, 32)).toBe(0x80000000);
    expect(setBits(3, 30, 2, 'x')).toBe(0xc0000000);
    expect(() => setBits(4, 0, 2, 'field')).toThrow(/field 4 does not fit in 2 bits/);
  });
});
