/**
 * Small fixed-size buffers for the data path (SQEs, synthesized CQEs) cut out of a shared slab
 * instead of one `Buffer.alloc` each: an `ArrayBuffer` per 64-byte SQE costs a backing store,
 * its zeroing and its tracking by the garbage collector, where a view of a slab costs one small
 * object. Slab bytes are handed out once and never reused, so a buffer stays valid (and keeps
 * its slab alive) for as long as anyone holds it; a fresh slab starts zeroed, so every buffer
 * does too.
 */

/** Default slab size: 256 SQEs; a slab outlives the last command cut from it. */
export const SMALL_BUFFER_SLAB_BYTES = 16 * 1024;

export class SmallBuffers {
  private slab: Buffer;
  private used = 0;

  constructor(private readonly slabBytes = SMALL_BUFFER_SLAB_BYTES) {
    this.slab = Buffer.alloc(slabBytes);
  }

  /** `size` zero bytes of their own. */
  take(size: number): Buffer {
    if (size > this.slabBytes) return Buffer.alloc(size);
    if (this.used + size > this.slab.length) {
      this.slab = Buffer.alloc(this.slabBytes);
      this.used = 0;
    }
    const at = this.used;
    this.used += size;
    return this.slab.subarray(at, this.used);
  }
}
