/**
 * A table from small non-negative integers (chunk numbers) to values, for MemoryBdev's chunks:
 * a directory of fixed-size pages of slots, a page allocated when its first value is set. A
 * lookup is two array loads. A Map did the same job at ~45 ns per get with a warm cache (one
 * hashing, a bucket walk) and cost a 3-way mirror's memory nodes 7.6 % of their CPU on 4 KiB
 * random writes (`perf`, Builtins_FindOrderedHashMapEntry under the target's Write), the index
 * being random over thousands of chunks.
 */

/** Slots per page: a 1 GiB bdev of 64 KiB chunks is 16 pages, their directory 16 entries. */
export const SPARSE_TABLE_PAGE_SLOTS = 1024;

export class SparseTable<T> {
  private readonly pages: Array<Array<T | undefined> | undefined> = [];
  private count = 0;

  /** Values set and not deleted. */
  get size(): number {
    return this.count;
  }

  get(index: number): T | undefined {
    const page = this.pages[Math.floor(index / SPARSE_TABLE_PAGE_SLOTS)];
    return page === undefined ? undefined : page[index % SPARSE_TABLE_PAGE_SLOTS];
  }

  set(index: number, value: T): void {
    const p = Math.floor(index / SPARSE_TABLE_PAGE_SLOTS);
    let page = this.pages[p];
    if (page === undefined) {
      // Filled with undefined rather than left holey, so that loads from it stay fast.
      page = new Array<T | undefined>(SPARSE_TABLE_PAGE_SLOTS).fill(undefined);
      // A directory with a far gap (a huge sparse bdev) turns into V8's dictionary elements: as
      // slow as a Map, and no larger than the pages in use.
      this.pages[p] = page;
    }
    const slot = index % SPARSE_TABLE_PAGE_SLOTS;
    if (page[slot] === undefined) this.count++;
    page[slot] = value;
  }

  /** Empties the slot; the page stays (a page is a few KiB, and freed with the table). */
  delete(index: number): void {
    const page = this.pages[Math.floor(index / SPARSE_TABLE_PAGE_SLOTS)];
    const slot = index % SPARSE_TABLE_PAGE_SLOTS;
    if (page === undefined || page[slot] === undefined) return;
    page[slot] = undefined;
    this.count--;
  }

  clear(): void {
    this.pages.length = 0;
    this.count = 0;
  }
}
