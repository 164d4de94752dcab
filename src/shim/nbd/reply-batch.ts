/**
 * What one NBD connection sends in one event-loop turn, leaving in one corked batch (STYLE.md
 * rule 5, ws's sender). Reply headers are encoded straight into a bump-allocated arena, so a
 * header costs no allocation of its own and the replies of a turn's writes, back to back in the
 * arena, reach the socket as one buffer; READ data goes out as the bdev's own buffer, never
 * copied (DESIGN.md "Data path rules"). The batch is flushed by setImmediate, after every I/O
 * callback of the turn: the replies completed by all the legs' answers that arrived together
 * leave in one send, not one per leg connection. Arena bytes are never reused, so a view the
 * socket still holds stays valid.
 */

/** The part of a net.Socket the batch writes to. */
export interface ReplySink {
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
}

/** Arena size: the headers of a deep queue's turn (256 requests × 28-byte READ header) fit twice. */
export const REPLY_ARENA_BYTES = 16 * 1024;

/**
 * A batch goes to the socket after this many replies even within a turn, for the reason and with
 * the measurements given at the NVMe/TCP side's FLUSH_EVERY_PDUS (transport/tcp/tx-batch.ts): a
 * whole turn sent at once moves the requests between processes as one convoy.
 */
export const FLUSH_EVERY_REPLIES = 8;

export class ReplyBatch {
  /** The arena the next reserve() writes into; read it after reserve(), which may replace it. */
  buf: Buffer = Buffer.allocUnsafe(REPLY_ARENA_BYTES);
  private used = 0;
  /** Start of the arena bytes reserved but not yet handed to the socket. */
  private staged = 0;
  private corked = false;
  /** Replies reserved since the last flush. */
  private count = 0;

  constructor(private readonly sink: ReplySink) {}

  /**
   * Reserves `size` bytes for a reply header in `buf` and returns their offset; the caller
   * writes every one of them (the arena is not zeroed).
   */
  reserve(size: number): number {
    if (this.count === FLUSH_EVERY_REPLIES) this.flush();
    this.begin();
    this.count++;
    if (this.used + size > this.buf.length) {
      this.writeStaged();
      this.buf = Buffer.allocUnsafe(Math.max(REPLY_ARENA_BYTES, size));
      this.used = this.staged = 0;
    }
    const at = this.used;
    this.used += size;
    return at;
  }

  /** Sends `data` as it is, after the headers reserved so far. */
  data(data: Buffer): void {
    if (data.length === 0) return;
    this.begin();
    this.writeStaged();
    if (this.sink.writable) this.sink.write(data);
  }

  /** Queues already encoded messages, in order. False once the socket can no longer write. */
  write(buffers: readonly Buffer[]): boolean {
    if (!this.sink.writable) return false;
    for (const b of buffers) this.data(b);
    return true;
  }

  /** Hands everything to the socket now and uncorks it (end of turn, or before ending). */
  flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.count = 0;
    this.writeStaged();
    this.sink.uncork();
  };

  private begin(): void {
    if (this.corked) return;
    this.corked = true;
    this.sink.cork();
    setImmediate(this.flush);
  }

  private writeStaged(): void {
    if (this.used === this.staged) return;
    const staged = this.buf.subarray(this.staged, this.used);
    this.staged = this.used;
    if (this.sink.writable) this.sink.write(staged);
  }
}
