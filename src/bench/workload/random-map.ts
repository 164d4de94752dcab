/**
 * fio's random map (lib/axmap.c): one bit per block of the region, so that a random workload
 * touches every block once per pass. A random pick that lands on a used block moves to the next
 * free one (fio's axmap_next_free), wrapping at the end. norandommap turns this off.
 */
const BITS_PER_WORD = 32;
const FULL_WORD = 0xffffffff;

export class RandomMap {
  private readonly words: Uint32Array;
  private used = 0;

  constructor(readonly blocks: number) {
    this.words = new Uint32Array(Math.ceil(blocks / BITS_PER_WORD));
  }

  get full(): boolean {
    return this.used >= this.blocks;
  }

  isFree(block: number): boolean {
    return (this.words[block >>> 5] & (1 << (block & 31))) === 0;
  }

  /** Marks [block, block+count) used (clipped to the map). */
  mark(block: number, count = 1): void {
    const end = Math.min(this.blocks, block + count);
    for (let b = block; b < end; b++) {
      const w = b >>> 5;
      const bit = 1 << (b & 31);
      if ((this.words[w] & bit) === 0) {
        this.words[w] |= bit;
        this.used++;
      }
    }
  }

  /** The first free block at or after `block`, wrapping around; -1 when the map is full. */
  nextFree(block: number): number {
    if (this.full) return -1;
    const found = this.scan(block, this.blocks);
    return found >= 0 ? found : this.scan(0, block);
  }

  private scan(from: number, to: number): number {
    let b = from;
    while (b < to) {
      const w = b >>> 5;
      const word = this.words[w];
      if (word === FULL_WORD) {
        b = (w + 1) * BITS_PER_WORD;
        continue;
      }
      if ((word & (1 << (b & 31))) === 0) return b;
      b++;
    }
    return -1;
  }

  reset(): void {
    this.words.fill(0);
    this.used = 0;
  }
}
