/**
 * A sparse RAM disk (SPDK module/bdev/malloc, nbdkit memory plugin): capacity costs nothing until
 * written. Storage is a table of fixed-size chunks (SparseTable), each with a per-block
 * allocation map, so that blockStatus reports holes at block granularity and a chunk whose blocks
 * are all deallocated is freed. A never-written or deallocated block reads as zeroes.
 */
import type { BlockStatusExtent, LbaRange } from './bdev.js';
import { ReadSlab } from './read-slab.js';
import { BaseBdev, type BdevGeometry } from './base-bdev.js';
import { checkRange } from './bdev.js';
import { SparseTable } from './sparse-table.js';

/** Bytes per chunk: the table stays small, and sparse writes stay cheap. */
export const MEMORY_CHUNK_BYTES = 64 * 1024;

const HOLE = 0;
const DATA = 1;

interface Chunk {
  data: Buffer;
  /** One byte per block: HOLE or DATA. */
  state: Uint8Array;
  allocated: number;
}

export type MemoryBdevOptions = BdevGeometry;

/** Marks blocks [first, first+count) of a chunk as written. */
function markData(chunk: Chunk, first: number, count: number): void {
  const { state } = chunk;
  for (let b = first; b < first + count; b++) {
    if (state[b] === HOLE) {
      state[b] = DATA;
      chunk.allocated++;
    }
  }
}

export class MemoryBdev extends BaseBdev {
  private readonly chunks = new SparseTable<Chunk>();
  private readonly blocksPerChunk: number;
  /** Where small reads are cut from; never reused, so a read stays the caller's alone. */
  private readonly readSlab = new ReadSlab();

  constructor(opts: MemoryBdevOptions) {
    super(opts);
    this.blocksPerChunk = MEMORY_CHUNK_BYTES / this.blockSize;
  }

  /** Bytes of RAM holding data (chunks allocated), for tests and the admin API. */
  get allocatedBytes(): number {
    return this.chunks.size * MEMORY_CHUNK_BYTES;
  }

  /**
   * A copy of the blocks (the caller owns what a read returns): written chunks are copied, holes
   * zero-filled, into memory that needs no zeroing of its own. Small reads are cut from a shared
   * slab, as Buffer.allocUnsafe cuts from its pool, so that a 4 KiB read costs no allocation;
   * larger ones get allocUnsafe memory (Buffer.alloc of 128 KiB costs page faults, ~90 µs here).
   */
  protected readBlocks(lba: number, blocks: number): Buffer {
    const bs = this.blockSize;
    const out = this.readSlab.take(blocks * bs);
    for (let done = 0; done < blocks;) {
      const at = lba + done;
      const first = at % this.blocksPerChunk;
      const count = Math.min(blocks - done, this.blocksPerChunk - first);
      const chunk = this.chunks.get((at - first) / this.blocksPerChunk);
      if (chunk) chunk.data.copy(out, done * bs, first * bs, (first + count) * bs);
      else out.fill(0, done * bs, (done + count) * bs);
      done += count;
    }
    return out;
  }

  /**
   * Copies the data into its chunks, synchronously (the target answers such a write with no
   * promise at all): one table lookup and one copy per chunk touched, the allocation map updated
   * only while a chunk still has holes.
   */
  protected writeBlocks(lba: number, data: Buffer): void {
    const bs = this.blockSize;
    const perChunk = this.blocksPerChunk;
    const blocks = data.length / bs;
    for (let done = 0; done < blocks;) {
      const at = lba + done;
      const first = at % perChunk;
      const count = Math.min(blocks - done, perChunk - first);
      const chunk = this.chunkFor((at - first) / perChunk);
      data.copy(chunk.data, first * bs, done * bs, (done + count) * bs);
      if (chunk.allocated < perChunk) markData(chunk, first, count);
      done += count;
    }
  }

  /** Memory holds nothing volatile beyond itself. */
  protected async flushAll(): Promise<void> {}

  /** Zeroed blocks become holes: the cheapest way to read as zero, as nbdkit memory trims on zero. */
  protected async zeroBlocks(lba: number, blocks: number): Promise<void> {
    this.punch(lba, blocks);
  }

  protected async deallocateRanges(ranges: readonly LbaRange[]): Promise<void> {
    for (const r of ranges) this.punch(r.lba, r.blocks);
  }

  protected async closeBdev(): Promise<void> {
    this.chunks.clear();
  }

  async blockStatus(lba: number, blocks: number): Promise<BlockStatusExtent[]> {
    return this.run('block status', async () => {
      checkRange(this, lba, blocks);
      const extents: BlockStatusExtent[] = [];
      const add = (state: BlockStatusExtent['state'], n: number): void => {
        const last = extents[extents.length - 1];
        if (last && last.state === state) last.blocks += n;
        else extents.push({ state, blocks: n });
      };
      this.forEachPiece(lba, blocks, (chunkIndex, first, count) => {
        const chunk = this.chunks.get(chunkIndex);
        if (!chunk) return add('hole', count);
        for (let b = first; b < first + count; b++) {
          add(chunk.state[b] === DATA ? 'data' : 'hole', 1);
        }
      });
      return extents;
    });
  }

  private chunkFor(index: number): Chunk {
    let chunk = this.chunks.get(index);
    if (!chunk) {
      chunk = {
        data: Buffer.alloc(MEMORY_CHUNK_BYTES),
        state: new Uint8Array(this.blocksPerChunk),
        allocated: 0,
      };
      this.chunks.set(index, chunk);
    }
    return chunk;
  }

  /** Deallocates: zeroes the blocks' bytes (reads copy a chunk as it is), frees emptied chunks. */
  private punch(lba: number, blocks: number): void {
    this.forEachPiece(lba, blocks, (chunkIndex, first, count) => {
      const chunk = this.chunks.get(chunkIndex);
      if (!chunk) return;
      if (count === this.blocksPerChunk) {
        this.chunks.delete(chunkIndex);
        return;
      }
      chunk.data.fill(0, first * this.blockSize, (first + count) * this.blockSize);
      for (let b = first; b < first + count; b++) {
        if (chunk.state[b] === DATA) {
          chunk.state[b] = HOLE;
          chunk.allocated--;
        }
      }
      if (chunk.allocated === 0) this.chunks.delete(chunkIndex);
    });
  }

  /** Cuts [lba, lba+blocks) at chunk boundaries: (chunk, first block in it, count, offset in request). */
  private forEachPiece(
    lba: number,
    blocks: number,
    fn: (chunkIndex: number, first: number, count: number, requestBlock: number) => void,
  ): void {
    let done = 0;
    while (done < blocks) {
      const at = lba + done;
      const chunkIndex = Math.floor(at / this.blocksPerChunk);
      const first = at % this.blocksPerChunk;
      const count = Math.min(blocks - done, this.blocksPerChunk - first);
      fn(chunkIndex, first, count, done);
      done += count;
    }
  }
}
