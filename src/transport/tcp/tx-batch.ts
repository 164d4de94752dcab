/**
 * What one NVMe/TCP connection sends in one event-loop tick, leaving in one corked batch
 * (STYLE.md rule 5, ws sender.js). PDU headers are encoded straight into a bump-allocated
 * arena, so a header costs no allocation of its own and consecutive headers (the CapsuleResp of
 * one command and the C2HData header of the next, or a train of CapsuleCmds) reach the socket as
 * one buffer; payloads go out as the caller's own buffers, never copied (DESIGN.md "Data path
 * rules"). Arena bytes are never reused, so a view the socket still holds stays valid and every
 * reserved byte starts out zero (reserved fields and PDO padding need no fill).
 */
import type { Socket } from 'node:net';

/** Arena size: the headers of a deep queue's tick (128 commands × 72-byte CapsuleCmd) fit twice. */
export const TX_ARENA_BYTES = 32 * 1024;

/**
 * A batch goes to the socket after this many PDUs even within a turn. Sending a whole turn at
 * once makes the requests travel between processes as one convoy (32 at QD32): while one process
 * works through them the next one waits with nothing to do, and on 2 cores a fifth of the CPU sat
 * idle. Handing off every 8 (bench/dpu-shim.mjs, QD32 4 KiB, two A/B pairs) cut the machine's
 * idle share in the DPU runs from 20-31 % to 16-23 %; IOPS moved within the runs' noise (mirror
 * reads +0-18 %, writes -7-+16 %), for ~4 sends per 32 requests instead of 1. Later A/B pairs
 * (file-node mirror writes): every 4 cost 16-17 % of the IOPS, no limit 15 % (idle 26 % vs 17 %).
 * The NBD shim's reply batch (FLUSH_EVERY_REPLIES) follows the same rule.
 */
export const FLUSH_EVERY_PDUS = 8;

export class TxBatch {
  /** The arena the next reserve() writes into; read it after reserve(), which may replace it. */
  buf: Buffer = Buffer.alloc(TX_ARENA_BYTES);
  private used = 0;
  /** Start of the arena bytes reserved but not yet handed to the socket. */
  private staged = 0;
  private corked = false;
  /** PDUs reserved since the last flush. */
  private count = 0;

  constructor(private readonly socket: Socket) {}

  /** Reserves `size` zero bytes for a PDU header in `buf`; returns their offset. */
  reserve(size: number): number {
    if (this.count === FLUSH_EVERY_PDUS) this.flush();
    this.begin();
    this.count++;
    if (this.used + size > this.buf.length) {
      this.writeStaged();
      this.buf = Buffer.alloc(Math.max(TX_ARENA_BYTES, size));
      this.used = this.staged = 0;
    }
    const at = this.used;
    this.used += size;
    return at;
  }

  /** Copies a small, already encoded PDU (ICReq, TermReq) into the batch. */
  bytes(pdu: Buffer): void {
    const at = this.reserve(pdu.length);
    pdu.copy(this.buf, at);
  }

  /** Sends `data` as it is, after the headers reserved so far. */
  data(data: Buffer): void {
    this.begin();
    this.writeStaged();
    this.socket.write(data);
  }

  /** Hands everything to the socket now and uncorks it (end of tick, or the connection ends). */
  flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.count = 0;
    this.writeStaged();
    this.socket.uncork();
  };

  private begin(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.flush);
  }

  private writeStaged(): void {
    if (this.used === this.staged) return;
    this.socket.write(this.buf.subarray(this.staged, this.used));
    this.staged = this.used;
  }
}
