/**
 * The PDU framer (pg-protocol parser.ts style): fed socket chunks, it cuts whole PDUs by the
 * common header's PLEN and hands each to a callback as a Buffer. A PDU inside one chunk is a
 * `subarray` view of that chunk (no copy); only a PDU that spans chunks is copied, once, into a
 * buffer of exactly PLEN bytes allocated when its header arrives. The framer knows nothing of
 * what PDUs mean: `onHeader` sees each 8-byte common header before any of the PDU's data is
 * buffered and throws a TcpTransportError to reject it (so a bogus PLEN never allocates).
 */
import { TcpTransportError, TermReqFes } from './errors.js';
import { CH_PLEN, CH_SIZE } from './pdu-header.js';

export interface PduReaderHandlers {
  /** Checks a common header (8 bytes at `at`); throws TcpTransportError to reject the PDU. */
  onHeader(buf: Buffer, at: number): void;
  /** One whole PDU, exactly PLEN bytes. */
  onPdu(pdu: Buffer): void;
  /**
   * When present, called instead of onPdu with where the PDU lies (`plen` bytes of `buf` from
   * `at`), so a receiver that reads its fields in place needs no view of the PDU itself.
   */
  onPduAt?(buf: Buffer, at: number, plen: number): void;
}

export class PduReader {
  /** Bytes of a common header split across chunks. */
  private readonly ch = Buffer.alloc(CH_SIZE);
  private chFilled = 0;
  /** A PDU spanning chunks, being assembled. */
  private partial: Buffer | undefined;
  private partialFilled = 0;

  constructor(private readonly handlers: PduReaderHandlers) {}

  /** True when no partial PDU is buffered (the stream is at a PDU boundary). */
  get idle(): boolean {
    return this.partial === undefined && this.chFilled === 0;
  }

  /** PLEN of the last PDU handed out (a hint of what comes next, for sizing reads). */
  lastPduLength = 0;

  /**
   * Where the rest of a PDU being assembled goes, when at least `minBytes` of it are missing: a
   * socket that reads into this view (net.Socket `onread`) puts the bytes in place, and push()
   * of that view copies nothing. Undefined at a PDU boundary or for a short remainder.
   */
  assemblyTarget(minBytes: number): Buffer | undefined {
    const partial = this.partial;
    if (partial === undefined || partial.length - this.partialFilled < minBytes) return undefined;
    return partial.subarray(this.partialFilled);
  }

  /**
   * Consumes a chunk. Exceptions from the handlers propagate; after one, the reader's state is
   * undefined and the caller must stop feeding it (the connection is being terminated).
   */
  push(chunk: Buffer): void {
    const length = chunk.length;
    let offset = 0;
    while (offset < length) {
      if (this.partial !== undefined) {
        const n = Math.min(this.partial.length - this.partialFilled, length - offset);
        // Bytes read straight into assemblyTarget() are already where they belong.
        const inPlace =
          offset === 0 &&
          chunk.buffer === this.partial.buffer &&
          chunk.byteOffset === this.partial.byteOffset + this.partialFilled;
        if (!inPlace) chunk.copy(this.partial, this.partialFilled, offset, offset + n);
        this.partialFilled += n;
        offset += n;
        if (this.partialFilled === this.partial.length) {
          const pdu = this.partial;
          this.partial = undefined;
          this.deliver(pdu, 0, pdu.length);
        }
        continue;
      }
      if (this.chFilled > 0) {
        const n = Math.min(CH_SIZE - this.chFilled, length - offset);
        chunk.copy(this.ch, this.chFilled, offset, offset + n);
        this.chFilled += n;
        offset += n;
        if (this.chFilled < CH_SIZE) break;
        this.chFilled = 0;
        this.begin(this.ch, 0);
        continue;
      }
      if (length - offset < CH_SIZE) {
        chunk.copy(this.ch, 0, offset, length);
        this.chFilled = length - offset;
        break;
      }
      const plen = this.header(chunk, offset);
      if (length - offset >= plen) {
        const at = offset;
        offset += plen;
        this.deliver(chunk, at, plen);
        continue;
      }
      this.partial = Buffer.allocUnsafe(plen);
      chunk.copy(this.partial, 0, offset, length);
      this.partialFilled = length - offset;
      break;
    }
  }

  /** Checks a common header; returns its PLEN, never less than the header itself. */
  private header(buf: Buffer, at: number): number {
    this.handlers.onHeader(buf, at);
    const plen = buf.readUInt32LE(at + CH_PLEN);
    if (plen < CH_SIZE) {
      throw new TcpTransportError(TermReqFes.InvalidHeaderField, CH_PLEN, `PLEN ${plen}`);
    }
    return plen;
  }

  /** A common header assembled from pieces: check it and start the spanning PDU. */
  private begin(ch: Buffer, at: number): void {
    const plen = this.header(ch, at);
    this.partial = Buffer.allocUnsafe(plen);
    ch.copy(this.partial, 0, at, at + CH_SIZE);
    this.partialFilled = CH_SIZE;
    if (plen === CH_SIZE) {
      const pdu = this.partial;
      this.partial = undefined;
      this.deliver(pdu, 0, pdu.length);
    }
  }

  private deliver(buf: Buffer, at: number, plen: number): void {
    const { handlers } = this;
    this.lastPduLength = plen;
    if (handlers.onPduAt) handlers.onPduAt(buf, at, plen);
    else handlers.onPdu(at === 0 && plen === buf.length ? buf : buf.subarray(at, at + plen));
  }
}
