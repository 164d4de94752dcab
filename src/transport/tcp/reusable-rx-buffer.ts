/**
 * Where a controller connection's socket reads (net.Socket `onread`): one buffer, read into
 * again and again while nothing outlives the read that filled it. A storage node answers most
 * commands before the read callback returns (a memory namespace, a file on the event loop), so
 * the SQEs and data the reader hands out as views are dead by then and the same warm pages take
 * the next read: no allocation, no zero-fill, no page faults per read (Node's default for
 * accepted sockets is a fresh zero-filled 64 KiB buffer per read). When a view does outlive the
 * callback (a command still running, a transfer waiting for H2CData) the owner says so with
 * keep(), and the bytes read stay untouched: the next read goes after them, as rx-buffers.ts does
 * for the host, and a full buffer is left to those views and replaced.
 *
 * The PDU reader itself keeps nothing of a chunk after push() returns: a split header or a
 * PDU spanning reads is copied into its own buffer (pdu-reader.ts), and large PDUs are read
 * straight into that buffer (assemblyTarget), never through this one.
 */
import type { PduReader } from './pdu-reader.js';

/** Buffer size: a few reads' worth, so that kept reads do not each cost an allocation. */
export const RX_BUFFER_BYTES = 256 * 1024;
/** Largest read offered at a PDU boundary (what Node reads by default). */
export const RX_REUSE_READ_BYTES = 64 * 1024;
/** A buffer with less room than this after kept reads is replaced. */
const RX_READ_MIN_BYTES = 16 * 1024;
/** A pending PDU missing at least this much is read into in place. */
const RX_DIRECT_MIN_BYTES = 16 * 1024;
/**
 * After a PDU at least this large, the next one probably is too: read only its header and a
 * little data at the boundary, so that almost all of its data then goes in place.
 */
const RX_LARGE_PDU_BYTES = 64 * 1024;
const RX_HEADER_READ_BYTES = 4 * 1024;

export class ReusableRxBuffer {
  private buf = Buffer.allocUnsafe(RX_BUFFER_BYTES);
  /** Bytes at the start of `buf` that views handed out may still refer to. */
  private kept = 0;
  /** Where the read being handed out lies in `buf`, and whether its views outlive it. */
  private readAt = -1;
  private keepRead = false;

  constructor(private readonly reader: PduReader) {}

  /** The buffer for the next read (the `onread.buffer` function). */
  next(): Buffer {
    const direct = this.reader.assemblyTarget(RX_DIRECT_MIN_BYTES);
    if (direct) return direct;
    const want =
      this.reader.lastPduLength >= RX_LARGE_PDU_BYTES ? RX_HEADER_READ_BYTES : RX_REUSE_READ_BYTES;
    if (this.buf.length - this.kept < Math.max(want, RX_READ_MIN_BYTES)) {
      this.buf = Buffer.allocUnsafe(RX_BUFFER_BYTES);
      this.kept = 0;
    }
    return this.buf.subarray(this.kept, this.kept + want);
  }

  /**
   * Hands `n` bytes read into `buf` (a buffer next() gave) to `consume`, then frees them for the
   * next read unless keep() was called meanwhile.
   */
  filled(buf: Buffer, n: number, consume: (chunk: Buffer) => void): void {
    const ours =
      buf.buffer === this.buf.buffer && buf.byteOffset === this.buf.byteOffset + this.kept;
    this.readAt = ours ? this.kept : -1;
    this.keepRead = false;
    try {
      consume(n === buf.length ? buf : buf.subarray(0, n));
    } finally {
      if (this.readAt >= 0 && this.keepRead) this.kept += n;
      this.readAt = -1;
    }
  }

  /**
   * Called while a chunk is being consumed: a view of it (an SQE, in-capsule or H2CData data)
   * lives on after the callback, so those bytes must not be read into again.
   */
  keep(): void {
    this.keepRead = true;
  }
}
