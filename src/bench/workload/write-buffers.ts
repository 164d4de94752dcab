/**
 * Contents of write buffers, as fio fills them (HOWTO buffer_compress_percentage, refill_buffers;
 * lib/rand.c fill_random_buf_percentage): random bytes by default; with
 * buffer_compress_percentage=P each buffer_compress_chunk (512 B) holds (100-P)% random bytes
 * followed by zeroes, so a compressor shrinks the data to about (100-P)%; with verify, a fio
 * verify header and checksum per I/O (verify-block.ts).
 */
import { randomFillSync } from 'node:crypto';
import type { JobSpec } from '../options/job-spec.js';
import {
  fillPattern,
  stampVerifyBlock,
  verifyHeaderSize,
  type VerifyStamp,
} from './verify-block.js';

/** fio's default buffer_compress_chunk. */
export const COMPRESS_CHUNK_BYTES = 512;
const PERCENT = 100;

/** Fills `buf` with (100-pct)% random bytes then zeroes in every chunk of `chunk` bytes. */
export function fillCompressible(buf: Buffer, pct: number, chunk = COMPRESS_CHUNK_BYTES): void {
  if (pct >= PERCENT) {
    buf.fill(0);
    return;
  }
  const randomBytes = Math.floor((chunk * (PERCENT - pct)) / PERCENT);
  for (let at = 0; at < buf.length; at += chunk) {
    const end = Math.min(buf.length, at + chunk);
    const r = Math.min(end, at + randomBytes);
    randomFillSync(buf, at, r - at);
    buf.fill(0, r, end);
  }
}

/** Fills a write buffer's data area per the job's options. */
export function fillData(buf: Buffer, job: JobSpec, from = 0): void {
  const area = from === 0 ? buf : buf.subarray(from);
  if (job.verifyPattern) fillPattern(buf, job.verifyPattern, from);
  else if (job.bufferCompressPercentage !== undefined)
    fillCompressible(area, job.bufferCompressPercentage);
  else randomFillSync(area);
}

/**
 * One write buffer per in-flight slot, sized for the largest block. Without verify and without
 * refill_buffers the contents are made once and reused (fio's default); fio turns refilling on
 * when buffer_compress_percentage is set, so neighbouring blocks do not compress together.
 */
export class WriteBufferSource {
  private readonly buf: Buffer;
  private readonly refill: boolean;

  constructor(
    private readonly job: JobSpec,
    maxBs: number,
  ) {
    this.buf = Buffer.allocUnsafe(maxBs);
    this.refill =
      job.refillBuffers ||
      (job.bufferCompressPercentage !== undefined && job.bufferCompressPercentage !== PERCENT);
    fillData(this.buf, job);
  }

  /** The buffer for one write of `length` bytes; valid until the next call on this source. */
  take(length: number, stamp: VerifyStamp | undefined): Buffer {
    const block = this.buf.subarray(0, length);
    const kind = this.job.verify;
    if (kind !== undefined && stamp) {
      fillData(block, this.job, verifyHeaderSize(kind));
      stampVerifyBlock(block, kind, stamp);
    } else if (this.refill) {
      fillData(block, this.job);
    }
    return block;
  }
}
