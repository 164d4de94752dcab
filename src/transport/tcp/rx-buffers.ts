/**
 * Where a host connection's socket reads (net.Socket `onread`, instead of a fresh 64 KiB buffer
 * per read): into the PDU the reader is assembling when a large one is pending, so that a
 * 128 KiB C2HData arrives in its own buffer with no copy out of a staging buffer and the caller
 * gets a view of it (DESIGN.md "Data path rules"); otherwise into a staging slab, of which
 * every PDU inside one read is handed out as a view. Slab bytes are never reused, so those
 * views stay valid; a slab lives while any of them does.
 */
import type { PduReader } from './pdu-reader.js';

/** Staging slab size: a few reads' worth, so small reads do not each cost an allocation. */
export const RX_SLAB_BYTES = 256 * 1024;
/** Largest read offered at a PDU boundary (what Node reads by default). */
export const RX_READ_BYTES = 64 * 1024;
/** A slab with less room than this left is retired. */
const RX_READ_MIN_BYTES = 16 * 1024;
/** A pending PDU missing at least this much is read into in place. */
const RX_DIRECT_MIN_BYTES = 16 * 1024;
/**
 * After a PDU at least this large, the next one probably is too: read only its header and a
 * little data at the boundary, so that almost all of its data then goes in place.
 */
const RX_LARGE_PDU_BYTES = 64 * 1024;
const RX_HEADER_READ_BYTES = 4 * 1024;

export class RxBuffers {
  private slab = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly reader: PduReader) {}

  /** The buffer for the next read (the `onread.buffer` function). */
  next(): Buffer {
    const direct = this.reader.assemblyTarget(RX_DIRECT_MIN_BYTES);
    if (direct) return direct;
    const want =
      this.reader.lastPduLength >= RX_LARGE_PDU_BYTES ? RX_HEADER_READ_BYTES : RX_READ_BYTES;
    if (this.slab.length - this.used < Math.max(want, RX_READ_MIN_BYTES)) {
      this.slab = Buffer.allocUnsafe(RX_SLAB_BYTES);
      this.used = 0;
    }
    return this.slab.subarray(this.used, this.used + want);
  }

  /** `n` bytes were read into `buf` (a buffer next() gave): the chunk to hand to the reader. */
  filled(buf: Buffer, n: number): Buffer {
    if (buf.buffer === this.slab.buffer && buf.byteOffset === this.slab.byteOffset + this.used) {
      this.used += n;
    }
    return n === buf.length ? buf : buf.subarray(0, n);
  }
}
