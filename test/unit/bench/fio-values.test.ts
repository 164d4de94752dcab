import { describe, expect, it } from 'vitest';
import {
  parseBool,
  parseByteRange,
  parseBytes,
  parsePattern,
  parseSizeValue,
  parseTimeUsec,
  splitPerDirection,
} from '../../../src/bench/options/fio-values.js';
import { BenchUsageError } from '../../../src/bench/errors.js';

describe('fio size values (kb_base=1024, fio HOWTO "int")', () => {
  // Expected values are fio 3.33's own readings: `fio --bs=V` printed these block sizes.
  it.each([
    ['4096', 4096],
    ['4k', 4096],
    ['4K', 4096],
    ['4kb', 4096],
    ['4KB', 4096],
    ['0x1000', 4096],
    ['4KiB', 4000],
    ['1mi', 1048576],
    ['1m', 1048576],
    ['1g', 1073741824],
    ['1280m', 1280 * 1048576],
    ['1.5g', 1.5 * 1073741824],
    ['2t', 2 * 1024 ** 4],
    ['1MiB', 1_000_000],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseBytes('bs', text)).toBe(bytes);
  });

  it('reads percentages where allowed', () => {
    expect(parseSizeValue('size', '50%', true)).toEqual({ percent: 50 });
    expect(() => parseSizeValue('size', '50%', false)).toThrow(BenchUsageError);
    expect(() => parseSizeValue('size', '150%', true)).toThrow(/size="150%"/);
  });

  it('refuses what is not a size, naming the option and value', () => {
    expect(() => parseBytes('bs', '4q')).toThrow('bs="4q" is not a size');
    expect(() => parseBytes('bs', '')).toThrow(BenchUsageError);
  });
});

describe('fio time values', () => {
  it.each([
    ['10', 10_000_000],
    ['10s', 10_000_000],
    ['500ms', 500_000],
    ['250us', 250],
    ['2m', 120_000_000],
    ['1h', 3_600_000_000],
    ['1d', 86_400_000_000],
    ['1.5', 1_500_000],
  ])('%s is %d µs', (text, usec) => {
    expect(parseTimeUsec('runtime', text)).toBe(usec);
  });
  it('refuses an unknown unit', () => {
    expect(() => parseTimeUsec('runtime', '5w')).toThrow('runtime="5w"');
  });
});

describe('fio booleans, ranges and per-direction lists', () => {
  it('reads booleans, a bare option meaning true', () => {
    expect(parseBool('time_based', undefined)).toBe(true);
    for (const t of ['1', 'true', 'yes', 'on']) expect(parseBool('x', t)).toBe(true);
    for (const f of ['0', 'false', 'no', 'off']) expect(parseBool('x', f)).toBe(false);
    expect(() => parseBool('x', 'maybe')).toThrow(BenchUsageError);
  });
  it('reads ranges with - or :, swapping a reversed one', () => {
    expect(parseByteRange('bsrange', '4k-64k')).toEqual({ min: 4096, max: 65536 });
    expect(parseByteRange('bsrange', '64k:4k')).toEqual({ min: 4096, max: 65536 });
  });
  it('splits read,write lists; one value applies to both', () => {
    expect(splitPerDirection('4k')).toEqual(['4k', '4k']);
    expect(splitPerDirection('4k,8k')).toEqual(['4k', '8k']);
    expect(splitPerDirection(',500')).toEqual([undefined, '500']);
    expect(splitPerDirection('500,')).toEqual(['500', undefined]);
  });
});

describe('verify_pattern', () => {
  // fio 3.33 wrote these bytes for these patterns (xxd of the written file).
  it('takes 0x hex as a big-endian byte string', () => {
    expect(parsePattern('verify_pattern', '0xdeadbeef')).toEqual(
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    );
    expect(parsePattern('verify_pattern', '0xab')).toEqual(Buffer.from([0xab]));
  });
  it('stores a decimal little-endian in as few bytes as it needs', () => {
    expect(parsePattern('verify_pattern', '305419896')).toEqual(
      Buffer.from([0x78, 0x56, 0x34, 0x12]),
    );
  });
  it('takes a quoted string as its bytes', () => {
    expect(parsePattern('verify_pattern', '"abc"')).toEqual(Buffer.from('abc'));
  });
});
