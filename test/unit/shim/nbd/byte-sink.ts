/**
 * The socket end a ReplyBatch writes to, for tests: records every write() in order and which
 * writes were made while corked, so a test can check the bytes and how they were grouped.
 */
import type { ReplySink } from '../../../../src/shim/nbd/reply-batch.js';

export class ByteSink implements ReplySink {
  writable = true;
  /** Every buffer written, in order. */
  readonly writes: Buffer[] = [];
  /** The writes between each cork() and its uncork(): one group per batch. */
  readonly groups: Buffer[][] = [];
  private corked = 0;

  cork(): void {
    if (this.corked++ === 0) this.groups.push([]);
  }

  uncork(): void {
    if (this.corked > 0) this.corked--;
  }

  write(chunk: Buffer): boolean {
    // A copy: the test checks what was handed over at the time of the write.
    const copy = Buffer.from(chunk);
    this.writes.push(copy);
    if (this.corked > 0) this.groups[this.groups.length - 1].push(copy);
    return true;
  }

  get isCorked(): boolean {
    return this.corked > 0;
  }

  bytes(): Buffer {
    return Buffer.concat(this.writes);
  }
}
