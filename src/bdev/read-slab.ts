/**
 * Where leaf bdevs put the data of a read. The caller owns what a read returns, so every read
 * needs memory no one else holds; a 4 KiB `Buffer.allocUnsafe` gets a backing store of its own
 * (Node's pool only serves smaller sizes), which costs an allocation and GC per read. So small
 * reads are cut from a shared slab, as Buffer's own pool does: slab bytes are never handed out
 * twice, and a slab lives while any read cut from it does (at most 16 small reads' worth).
 */

/** Reads up to this size are cut from a slab. */
const SLAB_READ_MAX_BYTES = 8 * 1024;
const READ_SLAB_BYTES = 64 * 1024;

export class ReadSlab {
  private slab = Buffer.allocUnsafe(0);
  private used = 0;

  /** `size` bytes of unzeroed memory no one else holds. */
  take(size: number): Buffer {
    if (size > SLAB_READ_MAX_BYTES) return Buffer.allocUnsafe(size);
    if (this.used + size > this.slab.length) {
      this.slab = Buffer.allocUnsafe(READ_SLAB_BYTES);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + size);
    this.used += size;
    return out;
  }
}
