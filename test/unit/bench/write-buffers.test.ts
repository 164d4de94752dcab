import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { resolveJobOptions } from '../../../src/bench/options/job-spec.js';
import {
  COMPRESS_CHUNK_BYTES,
  WriteBufferSource,
  fillCompressible,
} from '../../../src/bench/workload/write-buffers.js';
import { checkVerifyBlock } from '../../../src/bench/workload/verify-block.js';

const job = (opts: Record<string, string>) =>
  resolveJobOptions(
    'w',
    Object.entries(opts).map(([key, value]) => ({ key, value })),
  );

describe('write buffer contents', () => {
  it.each([0, 25, 50, 75, 90])(
    'buffer_compress_percentage=%i compresses to about 100 minus that percent',
    (pct) => {
      const buf = Buffer.alloc(1024 * 1024);
      fillCompressible(buf, pct);
      const ratio = deflateSync(buf).length / buf.length;
      // Random bytes do not compress; zero runs nearly vanish.
      expect(ratio).toBeGreaterThan((100 - pct) / 100 - 0.02);
      expect(ratio).toBeLessThan((100 - pct) / 100 + 0.03);
    },
  );

  it('lays each 512-byte chunk out as random bytes then zeroes', () => {
    const buf = Buffer.alloc(4 * COMPRESS_CHUNK_BYTES, 0xff);
    fillCompressible(buf, 75);
    for (let c = 0; c < 4; c++) {
      const zeroes = buf.subarray(c * COMPRESS_CHUNK_BYTES + 128, (c + 1) * COMPRESS_CHUNK_BYTES);
      expect(zeroes.every((b) => b === 0)).toBe(true);
    }
  });

  it('reuses one buffer by default and refills it with refill_buffers', () => {
    const still = new WriteBufferSource(job({ rw: 'write' }), 4096);
    const a = Buffer.from(still.take(4096, undefined));
    expect(still.take(4096, undefined)).toEqual(a);
    const fresh = new WriteBufferSource(job({ rw: 'write', refill_buffers: '1' }), 4096);
    const b = Buffer.from(fresh.take(4096, undefined));
    expect(fresh.take(4096, undefined)).not.toEqual(b);
  });

  it('stamps a verify header per write, over data filled by verify_pattern when given', () => {
    const src = new WriteBufferSource(
      job({ rw: 'write', verify: 'crc32c', verify_pattern: '0xab' }),
      8192,
    );
    const block = src.take(4096, { offset: 12288, seedLo: 1, seedHi: 2, thread: 1, numberio: 0 });
    expect(block.length).toBe(4096);
    expect(block.subarray(44).every((b) => b === 0xab)).toBe(true);
    expect(
      checkVerifyBlock(block, { kind: 'crc32c', offset: 12288, seedLo: 1, seedHi: 2, file: 'f' }),
    ).toBeUndefined();
  });
});
