import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkVerifyBlock,
  fioCrc32c,
  stampVerifyBlock,
  fillPattern,
} from '../../../src/bench/workload/verify-block.js';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const FILE = 'disk.img';

describe("fio's verify format", () => {
  it('fio_crc32c is CRC-32C without the final inversion', () => {
    // CRC-32C("123456789") = 0xE3069283 (RFC 3720 B.4 check value); fio returns its complement.
    expect(fioCrc32c(Buffer.from('123456789'))).toBe(~0xe3069283 >>> 0);
  });

  it('accepts the crc32c and md5 blocks real fio 3.33 wrote', () => {
    expect(
      checkVerifyBlock(fixture('fio-3.33-crc32c-block.bin'), {
        kind: 'crc32c',
        offset: 0,
        file: FILE,
      }),
    ).toBeUndefined();
    expect(
      checkVerifyBlock(fixture('fio-3.33-md5-block.bin'), { kind: 'md5', offset: 0, file: FILE }),
    ).toBeUndefined();
  });

  it('names a wrong offset, type and seed as fio does', () => {
    const block = fixture('fio-3.33-crc32c-block.bin');
    expect(checkVerifyBlock(block, { kind: 'crc32c', offset: 4096, file: FILE })).toBe(
      'verify: bad header offset 0, wanted 4096 at file disk.img offset 4096, length 4096 (requested block: offset=4096, length=4096)',
    );
    expect(checkVerifyBlock(block, { kind: 'md5', offset: 0, file: FILE })).toMatch(
      /^fio: verify type mismatch \(5 media, 2 given\)/,
    );
    const seedLo = block.readUInt32LE(8);
    const seedHi = block.readUInt32LE(12);
    expect(
      checkVerifyBlock(block, { kind: 'crc32c', offset: 0, seedLo, seedHi, file: FILE }),
    ).toBeUndefined();
    expect(
      checkVerifyBlock(block, {
        kind: 'crc32c',
        offset: 0,
        seedLo: seedLo ^ 1,
        seedHi,
        file: FILE,
      }),
    ).toMatch(/^verify: bad header rand_seed \d+, wanted \d+ at file disk\.img offset 0/);
  });

  it('reports a block overwritten with 0xab as a bad magic header at its offset (fio 3.33 wording)', () => {
    const block = Buffer.alloc(4096, 0xab);
    expect(checkVerifyBlock(block, { kind: 'crc32c', offset: 8192, file: 'c.img' })).toBe(
      'verify: bad magic header abab, wanted acca at file c.img offset 8192, length 4096 (requested block: offset=8192, length=4096)',
    );
  });

  it('reports a flipped data byte with the expected and received CRC', () => {
    const block = Buffer.from(fixture('fio-3.33-crc32c-block.bin'));
    block[100] ^= 0xff;
    const msg = checkVerifyBlock(block, { kind: 'crc32c', offset: 0, file: FILE })!;
    const lines = msg.split('\n');
    expect(lines[0]).toBe(
      'crc32c: verify failed at file disk.img offset 0, length 4096 (requested block: offset=0, length=4096)',
    );
    expect(lines[1]).toBe(`       Expected CRC: ${block.subarray(40, 44).toString('hex')}`);
    expect(lines[2]).toMatch(/^ {7}Received CRC: [0-9a-f]{8}$/);
  });

  it("stamps headers at the offsets of fio's struct verify_header", () => {
    for (const kind of ['crc32c', 'md5'] as const) {
      const block = Buffer.alloc(8192, 0x5a);
      stampVerifyBlock(block, kind, {
        offset: 5 * 2 ** 32 + 8192,
        seedLo: 0x11223344,
        seedHi: 0x55667788,
        thread: 3,
        numberio: 7,
      });
      expect(block.readUInt16LE(0)).toBe(0xacca);
      expect(block.readUInt16LE(2)).toBe(kind === 'md5' ? 2 : 5);
      expect(block.readUInt32LE(4)).toBe(8192);
      expect(block.readBigUInt64LE(8)).toBe(0x5566778811223344n);
      expect(block.readBigUInt64LE(16)).toBe(5n * 2n ** 32n + 8192n);
      expect(block.readUInt16LE(32)).toBe(3);
      expect(block.readUInt16LE(34)).toBe(7);
      expect(block.readUInt32LE(36)).toBe(fioCrc32c(block.subarray(0, 36)));
      expect(
        checkVerifyBlock(block, {
          kind,
          offset: 5 * 2 ** 32 + 8192,
          seedLo: 0x11223344,
          seedHi: 0x55667788,
          file: FILE,
        }),
      ).toBeUndefined();
    }
  });

  it('verifies a pattern byte by byte and names the first bad byte', () => {
    const pattern = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const block = Buffer.alloc(4096);
    fillPattern(block, pattern);
    expect(block.subarray(0, 8)).toEqual(Buffer.from('deadbeefdeadbeef', 'hex'));
    expect(
      checkVerifyBlock(block, { kind: 'pattern', offset: 0, pattern, file: FILE }),
    ).toBeUndefined();
    block[6] = 0xbf;
    expect(checkVerifyBlock(block, { kind: 'pattern', offset: 12288, pattern, file: FILE })).toBe(
      "fio: got pattern 'bf', wanted 'be'. Bad bits 1\n" +
        'fio: bad pattern block offset 6\n' +
        'pattern: verify failed at file disk.img offset 12288, length 4096 (requested block: offset=12288, length=4096)',
    );
  });
});
